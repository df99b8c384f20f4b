"""The library face: every name in __all__ resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import convsignal


@pytest.mark.parametrize("name", convsignal.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(convsignal, name) is not None


def test_all_lists_exactly_the_exports() -> None:
    assert sorted(convsignal.__all__) == sorted(convsignal._EXPORTS)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = convsignal.nope  # type: ignore[attr-defined]


def test_import_does_not_load_presidio_or_spacy() -> None:
    code = (
        "import sys, convsignal; "
        "print(any(m.startswith(('presidio', 'spacy')) for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
