# `make demo` and `make test` each work as the first command on a fresh clone: they build .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/auditor: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

demo: $(BIN)/auditor
	$(BIN)/auditor demo

test: $(BIN)/auditor
	$(BIN)/python -m pytest

lint: $(BIN)/auditor
	$(BIN)/ruff check auditor rules tests bench

clean:
	rm -rf $(VENV) build *.egg-info
