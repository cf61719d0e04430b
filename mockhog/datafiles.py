"""The committed data files in ``fixtures/`` (the default profile, the vocabulary of generic values)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def fixtures_dir() -> Path:
    """``fixtures/`` of a checkout, or the copy a wheel carries inside the package."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "fixtures"
    return checkout if checkout.is_dir() else here / "fixtures"


def read_fixture(name: str) -> Any:
    """``fixtures/<name>.json``, parsed."""
    return json.loads((fixtures_dir() / f"{name}.json").read_text())
