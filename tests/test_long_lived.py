"""Bulk allocations kept out of the collector's scans (auditor.long_lived): what a block makes goes to the oldest
generation unscanned; nothing is kept alive; the collector's state is the caller's again afterwards."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from auditor.long_lived import BULK, made_to_last


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def collector_on() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.enable()
    yield
    if not enabled:
        gc.disable()


def _in_generation(generation: int, thing: object) -> bool:
    return any(item is thing for item in gc.get_objects(generation=generation))


@pytest.mark.usefixtures("collector_on")
def test_what_the_block_makes_is_in_the_oldest_generation_unscanned() -> None:
    collections: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(counted)
    try:
        with made_to_last():
            assert not gc.isenabled()
            made = [[n] for n in range(BULK + 1)]  # a bulk: far past the youngest generation's threshold (700)
    finally:
        gc.callbacks.remove(counted)
    assert gc.isenabled()
    assert collections == []  # none while the block ran, and none on the way out
    assert _in_generation(2, made) and not _in_generation(0, made)


@pytest.mark.usefixtures("collector_on")
def test_what_a_small_block_makes_is_left_to_the_youngest_generation() -> None:
    gc.collect()
    with made_to_last():
        made = [[n] for n in range(100)]
    assert gc.isenabled()
    assert _in_generation(0, made)


@pytest.mark.usefixtures("collector_on")
def test_a_cycle_made_in_the_block_is_still_collected() -> None:
    with made_to_last():
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        bulk = [[n] for n in range(BULK + 1)]
    assert _in_generation(2, first)
    del bulk
    del first, second
    assert gone() is not None  # the cycle keeps itself alive until a full collection
    gc.collect()
    assert gone() is None


def test_a_collector_switched_off_stays_off() -> None:
    enabled = gc.isenabled()
    gc.disable()
    try:
        with made_to_last():
            pass
        assert not gc.isenabled()
    finally:
        if enabled:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_objects_frozen_for_another_reason_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with made_to_last():
            made = [[n] for n in range(BULK + 1)]
        assert gc.get_freeze_count() == frozen
        assert gc.isenabled()
        assert made
    finally:
        gc.unfreeze()
