"""Freezing the long-lived heap: only when the settings say so, once the scrubber exists."""

from __future__ import annotations

import gc

from convsignal.config import Settings
from convsignal.pipeline import scrubber_factory
from convsignal.runtime import freeze_long_lived
from convsignal.scrub import Scrubber


def test_freeze_long_lived_hides_what_is_alive_from_the_collector() -> None:
    gc.unfreeze()
    try:
        kept = [object() for _ in range(10)]
        frozen = freeze_long_lived()
        assert frozen == gc.get_freeze_count() > len(kept)
    finally:
        gc.unfreeze()


def test_the_pipelines_scrubber_freezes_only_when_the_settings_say_so() -> None:
    gc.unfreeze()
    try:
        off = Settings(freeze_heap=False)
        assert isinstance(scrubber_factory(off)(), Scrubber)
        assert gc.get_freeze_count() == 0
        on = off.model_copy(update={"freeze_heap": True})
        scrubber = scrubber_factory(on)()
        assert isinstance(scrubber, Scrubber)
        assert gc.get_freeze_count() > 10_000  # the spaCy model, modules, models
    finally:
        gc.unfreeze()
