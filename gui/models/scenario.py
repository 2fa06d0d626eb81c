"""Scenario files: the whole state of a lesson as versioned JSON, and the built-in presets.

Files are parsed as data only (``json``, never pickle or code), refused fast
when too large or too deeply nested, and checked field by field: a refusal
names the field and says what is wrong, and the current scenario stays.
Saving writes a temporary file beside the target and renames it, so a failed
save never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import resources
from .choices import (
    ACTIVATIONS,
    BOUNDS,
    GRAD_VIEWS,
    GRANULARITIES,
    KERNEL_PRESETS,
    MODES,
    OPS,
    PAD_KINDS,
    PADDING_MODES,
    THEMES,
    TRANSPOSE_VIEWS,
    UPSTREAMS,
)
from .lesson import Lesson
from .params import Params

SCHEMA_VERSION = 1
FORMAT_NAME = "convviz-scenario"
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 12
THEME_NAMES = THEMES

_CHOICES: dict[str, tuple[str, ...]] = {
    "op": OPS, "pad_kind": PAD_KINDS, "padding_mode": PADDING_MODES, "mode": MODES,
    "upstream": UPSTREAMS, "grad_view": GRAD_VIEWS, "granularity": GRANULARITIES,
    "transpose_view": TRANSPOSE_VIEWS,
    "preset": KERNEL_PRESETS, "activation": ACTIVATIONS,
}
_BOUNDS = BOUNDS


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``field`` names the part that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


@dataclass(frozen=True, eq=False)
class Scenario:
    """Everything a lesson needs to come back exactly as it was.

    Attributes
    ----------
    params : Params
    x : ndarray, shape (in_c, in_h, in_w)
    w : ndarray, shape (out_c, in_c, k_h, k_w)
    bias : ndarray, shape (out_c,)
    upstream : ndarray or None
        Typed dL/dY (``params.upstream == "custom"``), shape of the output.
    target : ndarray or None
        Loss target T, shape of the output.
    theme : str
    step : int
    title : str
    note : str
        The lecturer's short caption under the title, shown on stage (optional).
    """

    params: Params
    x: np.ndarray | None = None
    w: np.ndarray | None = None
    bias: np.ndarray | None = None
    upstream: np.ndarray | None = None
    target: np.ndarray | None = None
    theme: str = "light"
    step: int = 0
    title: str = ""
    note: str = ""


# --------------------------------------------------------------------------- model <-> scenario


def from_model(model: Lesson, *, theme: str = "light", title: str = "", note: str | None = None) -> Scenario:
    """The model's current state as a ``Scenario`` (``note`` None: the one on stage)."""
    p = model.params
    return Scenario(
        params=p, x=np.array(model.x), w=np.array(model.w), bias=model.bias_values,
        upstream=None if model.run.dy is None or p.upstream != "custom" else np.array(model.run.dy),
        target=model.target if p.upstream == "loss" else None, theme=theme, step=model.step, title=title,
        note=model.presentation.note if note is None else note,
    )


def apply(model: Lesson, s: Scenario) -> bool:
    """Load ``s`` into ``model`` (False, with the model's ``error`` emitted, if refused)."""
    if not model.load(s.params, x=s.x, w=s.w, bias=s.bias, upstream=s.upstream, target=s.target,
                      step=s.step):
        return False
    model.set_presentation(s.title, s.note)
    return True


# --------------------------------------------------------------------------- JSON


def _array_to_list(a: np.ndarray | None) -> Any:
    return None if a is None else np.asarray(a, dtype=float).tolist()


def to_dict(s: Scenario) -> dict[str, Any]:
    """A JSON-ready dict of ``s`` (schema ``SCHEMA_VERSION``)."""
    params = {f.name: getattr(s.params, f.name) for f in fields(Params)}
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
    return {
        "format": FORMAT_NAME, "version": SCHEMA_VERSION, "title": s.title, "note": s.note, "theme": s.theme,
        "step": int(s.step), "params": params, "input": _array_to_list(s.x),
        "kernel": _array_to_list(s.w), "bias": _array_to_list(s.bias),
        "upstream": _array_to_list(s.upstream), "target": _array_to_list(s.target),
    }


def dumps(s: Scenario) -> str:
    """``s`` as JSON text."""
    return json.dumps(to_dict(s), indent=1)


def _depth(text: str) -> int:
    """Deepest bracket nesting (strings included: an over-estimate is safe here)."""
    b = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    step = np.isin(b, (ord("["), ord("{"))).astype(np.int32) - np.isin(b, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def _check_param(name: str, value: Any, default: Any) -> Any:
    where = f"params.{name}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ScenarioError(where, f"must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(where, f"must be a whole number, got {value!r}")
        lo, hi = _BOUNDS.get(name, (-(2**31), 2**31 - 1))
        if not lo <= value <= hi:
            raise ScenarioError(where, f"must be between {lo} and {hi}, got {value}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ScenarioError(where, f"must be text, got {value!r}")
        choices = _CHOICES.get(name)
        if choices is not None and value not in choices:
            raise ScenarioError(where, f"must be one of {', '.join(choices)}; got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or len(value) != len(default):
            raise ScenarioError(where, f"must be a list of {len(default)} whole numbers, got {value!r}")
        lo, hi = _BOUNDS.get(name, (0, 2**31 - 1))
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ScenarioError(where, f"must hold whole numbers from {lo} to {hi}, got {value!r}")
        return tuple(value)
    raise ScenarioError(where, "is not a setting convviz knows")  # pragma: no cover


def _check_array(name: str, value: Any, shape: tuple[int, ...] | None) -> np.ndarray | None:
    if value is None:
        return None
    try:
        a = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ScenarioError(name, "must be a grid of numbers (lists of lists of numbers)") from None
    if shape is not None and a.shape != shape:
        raise ScenarioError(name, f"has shape {a.shape} but the settings need {shape}")
    if not np.isfinite(a).all():
        raise ScenarioError(name, "holds a value that is not a finite number")
    return a


def loads(text: str) -> Scenario:
    """Parse and check a scenario from JSON text.

    Raises
    ------
    ScenarioError
        Naming the field that is wrong.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError("", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if _depth(text) > MAX_DEPTH:
        raise ScenarioError("", f"the file nests deeper than {MAX_DEPTH} levels; it is not a scenario")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, or a 5000-digit number
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ScenarioError("", f"this is not valid JSON{where}: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(data, dict):
        raise ScenarioError("", "a scenario file holds one JSON object")
    if data.get("format") != FORMAT_NAME:
        raise ScenarioError("format", f"must be {FORMAT_NAME!r}; this is not a convviz scenario")
    version = data.get("version")
    if version != SCHEMA_VERSION:
        raise ScenarioError(
            "version", f"this file is version {version!r}; this convviz reads version {SCHEMA_VERSION}"
        )
    raw = data.get("params")
    if not isinstance(raw, dict):
        raise ScenarioError("params", "must be an object with the settings")
    defaults = Params()
    known = {f.name for f in fields(Params)}
    for k in raw:
        if k not in known:
            raise ScenarioError(f"params.{k}", "is not a setting convviz knows")
    values = {k: _check_param(k, raw[k], getattr(defaults, k)) for k in raw}
    params = Params(**values)
    theme = data.get("theme", "light")
    if theme not in THEME_NAMES:
        raise ScenarioError("theme", f"must be one of {', '.join(THEME_NAMES)}; got {theme!r}")
    step = data.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ScenarioError("step", f"must be a whole number from 0 up, got {step!r}")
    title = data.get("title", "")
    if not isinstance(title, str):
        raise ScenarioError("title", "must be text")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise ScenarioError("note", "must be text")
    p = params
    return Scenario(
        params=p,
        x=_check_array("input", data.get("input"), (p.in_c, p.in_h, p.in_w)),
        w=_check_array("kernel", data.get("kernel"), (p.out_c, p.group_in, p.k_h, p.k_w)),
        bias=_check_array("bias", data.get("bias"), (p.out_c,)),
        upstream=_check_array("upstream", data.get("upstream"), None),
        target=_check_array("target", data.get("target"), None),
        theme=theme, step=step, title=title, note=note,
    )


def load(path: str | os.PathLike[str]) -> Scenario:
    """Read and check a scenario file (size checked before reading)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ScenarioError("", f"cannot open {p.name}: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError("", f"{p.name} is {size / 1e6:.0f} MB; scenario files are at most "
                                f"{MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("", f"{p.name} is not a text file") from None
    except OSError as exc:
        raise ScenarioError("", f"cannot read {p.name}: {exc.strerror or exc}") from None
    return loads(text)


def default_mode(directory: bool = False) -> int:
    """The permissions a new file (or folder) gets from the user's umask (temporary files get 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Raises
    ------
    OSError
        With nothing left behind when the folder is not writable or the disk is full.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, default_mode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(path: str | os.PathLike[str], s: Scenario) -> None:
    """Write ``s`` to ``path`` atomically."""
    atomic_write(path, dumps(s).encode("utf-8"))


# --------------------------------------------------------------------------- presets


def list_presets() -> list[str]:
    """Names of the built-in presets, sorted."""
    return resources.preset_names()


def load_preset(name: str) -> Scenario:
    """A built-in preset by name (shipped in the wheel; see ``gui.models.resources``)."""
    try:
        text = resources.preset_text(name)
    except KeyError as exc:
        raise ScenarioError("", str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError("", f"cannot read the preset {name!r}: {exc}") from None
    return loads(text)


# --------------------------------------------------------------------------- lecture decks

DECK_FORMAT = "convviz-deck"


def from_dict(data: Any) -> Scenario:
    """A scenario from an already-parsed JSON object (see ``loads``)."""
    return loads(json.dumps(data))


def load_deck(path: str | os.PathLike[str]) -> tuple[str, list[Scenario]]:
    """A lecture deck: an ordered list of scenarios in one file.

    The file is ``{"format": "convviz-deck", "version": 1, "title": …, "scenarios": [...]}``
    where each entry is ``"preset:NAME"``, a scenario file path (relative to
    the deck), or a whole scenario object.

    Returns
    -------
    (title, scenarios)

    Raises
    ------
    ScenarioError
        Naming the entry (``scenarios[2].params.stride``) that is wrong.
    """
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError("", f"{p.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError("", f"cannot read {p.name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError("", f"{p.name} is not a text file") from None
    if _depth(text) > MAX_DEPTH + 2:
        raise ScenarioError("", f"the file nests deeper than {MAX_DEPTH + 2} levels; it is not a deck")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ScenarioError("", f"this is not valid JSON: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(data, dict) or data.get("format") != DECK_FORMAT:
        raise ScenarioError("format", f"must be {DECK_FORMAT!r}; this is not a convviz lecture deck")
    if data.get("version") != SCHEMA_VERSION:
        raise ScenarioError("version", f"this deck is version {data.get('version')!r}; "
                                       f"this convviz reads version {SCHEMA_VERSION}")
    entries = data.get("scenarios")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError("scenarios", "must be a non-empty list")
    out = []
    for k, e in enumerate(entries):
        try:
            if isinstance(e, str) and e.startswith("preset:"):
                out.append(load_preset(e.removeprefix("preset:")))
            elif isinstance(e, str):
                out.append(load((p.parent / e) if not Path(e).is_absolute() else Path(e)))
            elif isinstance(e, dict):
                out.append(from_dict(e))
            else:
                raise ScenarioError("", "must be 'preset:NAME', a file path or a scenario object")
        except ScenarioError as exc:
            raise ScenarioError(f"scenarios[{k}]" + (f".{exc.field}" if exc.field else ""),
                                str(exc).split(": ", 1)[-1] if exc.field else str(exc)) from None
    title = data.get("title", "")
    return (title if isinstance(title, str) else ""), out


def is_deck(path: str | os.PathLike[str]) -> bool:
    """True when the file looks like a lecture deck (its first kilobyte names the deck format)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    return DECK_FORMAT.encode() in head
