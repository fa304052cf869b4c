"""Where the data files (``contracts/``, ``fixtures/``) live at run time.

A wheel carries them inside the package under ``emulator/_data``; a source checkout
(and an editable install) reads them from the repository's top level.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder of the data set *name* (``"contracts"`` or ``"fixtures"``)."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed

    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout

    raise FileNotFoundError(f"Data folder {name!r} is missing from this installation.")


def contracts_dir() -> Path:
    return data_dir("contracts")


def fixtures_dir() -> Path:
    return data_dir("fixtures")
