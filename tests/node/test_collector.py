"""The collector's settings for long runs (rantai.node.collector) hold inside the block only."""

from __future__ import annotations

import gc

import pytest

from rantai.node.collector import YOUNG_THRESHOLD, quiet_collector


def test_the_collector_is_quiet_inside_and_put_back_after_even_on_an_error() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    survivor = [object() for _ in range(100)]  # exists before: frozen inside
    with pytest.raises(RuntimeError), quiet_collector():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() >= len(survivor)
        raise RuntimeError("the command failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
