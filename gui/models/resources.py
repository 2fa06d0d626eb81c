"""The files convviz ships with: presets, lecture decks and sample pictures.

They live in the repository's ``resources/`` folder, which an installed convviz
carries as the package ``convviz_resources`` (mapped in pyproject.toml) and reads
with :mod:`importlib.resources`. Code that runs from a source checkout (a
``pyproject.toml`` beside the ``gui`` package) reads that checkout's
``resources/`` folder instead, installed or not: ``python main.py`` works with
no install at all, and two checkouts that share one venv never read each
other's files.

Names are looked up in the folder's listing, never joined blindly onto a path,
so a name such as ``../x`` is simply unknown. Stdlib only, no Qt.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources as _resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "convviz_resources"
_CHECKOUT = Path(__file__).resolve().parents[2]
_extracted = contextlib.ExitStack()  # files copied out of a zipped install, removed at exit
atexit.register(_extracted.close)


class UnknownResourceError(KeyError):
    """A preset, deck or picture name that convviz does not ship; the message says which exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _checkout_folder() -> Path | None:
    """``resources/`` of the source checkout this code runs from, or None for an installed copy."""
    folder = _CHECKOUT / "resources"
    if (_CHECKOUT / "pyproject.toml").is_file() and (folder / "__init__.py").is_file():
        return folder
    return None


def resources_root() -> Traversable:
    """The folder that holds ``presets/``, ``decks/`` and ``images/``.

    Raises
    ------
    FileNotFoundError
        When neither a checkout's ``resources/`` nor the installed package is there.
    """
    folder = _checkout_folder()
    if folder is not None:
        return folder
    try:
        return _resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise FileNotFoundError(
            f"convviz's presets and pictures are missing: there is no package {PACKAGE!r} "
            f"and no resources/ folder beside {_CHECKOUT}; reinstall convviz"
        ) from None


def _entries(folder: str, suffix: str) -> dict[str, Traversable]:
    """The files in ``folder`` whose names end with ``suffix``, by name without it."""
    where = resources_root() / folder
    if not where.is_dir():
        return {}
    return {e.name.removesuffix(suffix): e for e in where.iterdir()
            if e.is_file() and e.name.endswith(suffix) and not e.name.startswith(".")}


def _entry(folder: str, suffix: str, name: str, what: str) -> Traversable:
    entries = _entries(folder, suffix)
    try:
        return entries[name]
    except (KeyError, TypeError):
        raise UnknownResourceError(
            f"there is no {what} {name!r}; the {what}s are: {', '.join(sorted(entries)) or 'none'}"
        ) from None


def _real_path(entry: Traversable) -> Path:
    """``entry`` as a file on disk (it already is one unless convviz runs from a zip)."""
    if isinstance(entry, Path):
        return entry
    return _extracted.enter_context(_resources.as_file(entry))


def preset_names() -> list[str]:
    """Names of the built-in presets (``presets/*.json`` without the suffix), sorted."""
    return sorted(_entries("presets", ".json"))


def preset_text(name: str) -> str:
    """The JSON text of the preset ``name``.

    Raises
    ------
    KeyError
        (``UnknownResourceError``) for a name that is not a preset; the message lists the presets.
    """
    return _entry("presets", ".json", name, "preset").read_text(encoding="utf-8")


def deck_names() -> list[str]:
    """Names of the built-in lecture decks (``decks/*.json`` without the suffix), sorted."""
    return sorted(_entries("decks", ".json"))


def deck_path(name: str) -> Path:
    """The file of the lecture deck ``name`` (a real path: a deck's relative paths start there).

    Raises
    ------
    KeyError
        (``UnknownResourceError``) for a name that is not a deck.
    """
    return _real_path(_entry("decks", ".json", name, "deck"))


def colour_maps_text() -> str:
    """The JSON text of the colour maps' lookup tables (``colourmaps/luts.json``)."""
    return _entry("colourmaps", ".json", "luts", "colour map table").read_text(encoding="utf-8")


def image_path(name: str) -> Path:
    """The file of the sample picture ``name``, with its suffix (``"digit.png"``).

    Raises
    ------
    KeyError
        (``UnknownResourceError``) for a name that is not a shipped picture.
    """
    return _real_path(_entry("images", "", name, "picture"))


def data_path(name: str) -> Path:
    """A data file shipped at the top of ``resources/`` (``"lenet5_digits.npz"``), as a real path.

    Raises
    ------
    KeyError
        (``UnknownResourceError``) for a name that is not shipped (e.g. weights not trained yet).
    """
    root = resources_root()
    entries = {e.name: e for e in root.iterdir()
               if e.is_file() and e.name.endswith((".npz", ".json")) and not e.name.startswith(".")}
    try:
        return _real_path(entries[name])
    except (KeyError, TypeError):
        raise UnknownResourceError(
            f"there is no data file {name!r}; the data files are: {', '.join(sorted(entries)) or 'none'}"
        ) from None
