"""A worker of `portal serve` keeps what its start-up built out of the garbage collector's full
collections (each would walk ~450,000 objects that live as long as the process, stalling every request
in flight), and collects young objects less often."""

from __future__ import annotations

import gc

from portal.http.server import YOUNG_COLLECTION_THRESHOLD, freeze_start_up_objects


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    built = [{"start-up": n} for n in range(1000)]  # containers: tracked by the collector
    try:
        freeze_start_up_objects()
        assert gc.get_freeze_count() >= len(built)
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
    finally:  # the test process goes on building and dropping apps
        gc.unfreeze()
        gc.set_threshold(*before)
