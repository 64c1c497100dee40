"""The rules/ folder installs as `auditor.rules`, never as a top-level `rules` (PyPI has one).

Proved for this editable install and for a wheel built from the repo and installed elsewhere.
Every import is checked in a child process started in a neutral folder, so that neither the
repo on sys.path nor this test process's imports can make it pass.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 180

PROBE = """
import importlib.util, json, sys
import auditor.rules
spec = importlib.util.find_spec("rules")
print(json.dumps({
    "auditor": auditor.__file__,
    "auditor.rules": auditor.rules.__file__,
    "rules": spec.origin if spec else None,
    "rules imported": "rules" in sys.modules,
}))
"""


def neutral_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH")}
    env.update(extra)
    return env


def probe(cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_pip(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], cwd=cwd,
                          env=neutral_env(**env), capture_output=True, text=True, timeout=TIMEOUT, check=False)


def pip(*args: str, cwd: Path) -> None:
    result = run_pip(*args, cwd=cwd)
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def build_requirements() -> list[Requirement]:
    requires = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    return [Requirement(text) for text in requires]


def build_requirements_installed() -> bool:
    """Whether this venv can build the wheel itself (no build isolation, so no download)."""
    try:
        for requirement in build_requirements():
            if not requirement.specifier.contains(importlib.metadata.version(requirement.name), prereleases=True):
                return False
        # setuptools before 70.1 needs the separate `wheel` package to build a wheel.
        if Version(importlib.metadata.version("setuptools")) < Version("70.1"):
            importlib.metadata.version("wheel")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repo to build from: an in-tree build would leave build/ and egg-info in the work tree."""
    copy = tmp_path_factory.mktemp("source") / "aws-network-auditor"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache"))
    return copy


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    # Without the build requirements here, pip fetches them into an isolated build environment.
    isolation = ["--no-build-isolation"] if build_requirements_installed() else []

    pip("wheel", "--no-deps", *isolation, "--wheel-dir", str(base / "dist"), str(source), cwd=base)

    (built,) = (base / "dist").glob("*.whl")
    return built


@pytest.mark.server
def test_editable_install_imports_the_rule_pack_as_auditor_rules(tmp_path: Path) -> None:
    env = neutral_env()

    found = probe(tmp_path, env)

    assert Path(found["auditor.rules"]).resolve() == REPO / "rules" / "__init__.py"
    assert Path(found["auditor"]).resolve() == REPO / "auditor" / "__init__.py"
    assert found["rules"] is None or not Path(found["rules"]).resolve().is_relative_to(REPO)
    assert found["rules imported"] is False


def test_installed_distribution_declares_only_the_auditor_package() -> None:
    distribution = importlib.metadata.distribution("aws-network-auditor")

    top_level = (distribution.read_text("top_level.txt") or "").split()

    assert top_level == ["auditor"]


@pytest.mark.server
def test_wheel_ships_the_rule_pack_inside_auditor_and_no_top_level_rules(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (top_level_name,) = [name for name in names if name.endswith(".dist-info/top_level.txt")]
        top_level = archive.read(top_level_name).decode().split()

    top_dirs = {name.split("/", 1)[0] for name in names if "/" in name}

    assert "auditor/rules/__init__.py" in names
    assert "auditor/collect/__init__.py" in names
    assert not [name for name in names if name.startswith("rules/")]
    assert {d for d in top_dirs if not d.endswith(".dist-info")} == {"auditor"}
    assert top_level == ["auditor"]


@pytest.mark.server
def test_wheel_install_imports_auditor_rules_from_the_install(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    pip("install", "--no-deps", "--no-index", "--target", str(site), str(wheel), cwd=tmp_path)
    env = neutral_env(PYTHONPATH=str(site))

    found = probe(tmp_path, env)

    assert Path(found["auditor.rules"]).resolve() == (site / "auditor" / "rules" / "__init__.py").resolve()
    assert Path(found["auditor"]).resolve() == (site / "auditor" / "__init__.py").resolve()
    assert not (site / "rules").exists()
    assert found["rules"] is None or not Path(found["rules"]).resolve().is_relative_to(site.resolve())
    assert found["rules imported"] is False


@pytest.mark.server
def test_the_lowest_declared_build_requirements_build_the_wheel(source: Path, tmp_path: Path) -> None:
    floors = [f"{requirement.name}=={spec.version}" for requirement in build_requirements()
              for spec in requirement.specifier if spec.operator == ">="]
    constraints = tmp_path / "build-floor.txt"
    constraints.write_text("\n".join(floors) + "\n", encoding="utf-8")

    # PIP_CONSTRAINT also pins what pip installs into the isolated build environment.
    result = run_pip("wheel", "--no-deps", "--wheel-dir", str(tmp_path / "dist"), str(source), cwd=tmp_path,
                     PIP_CONSTRAINT=str(constraints))

    assert floors
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "dist").glob("*.whl"))
