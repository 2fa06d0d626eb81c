"""Scenario files: the whole state of a lesson as versioned JSON, the built-in presets, lecture decks.

Files are parsed as data only (``json``, never pickle or code) and checked
field by field with the core's own validator (``gui.models.validate``), so a
file holds exactly what a lesson accepts: a refusal names the field and says
what is wrong, and the current scenario stays. Whatever convviz saves, it
opens again.

The format (``"format": "convviz-scenario"``):

* version 1 stores every array as nested lists of numbers;
* version 2 adds a compact form for arrays of more than ``LIST_MAX`` numbers:
  ``{"dtype": "float64", "shape": [...], "base64": "..."}``, the array's
  little-endian float64 bytes in base64 (exact, a third larger than the
  bytes; lists of numbers are two to three times that).

convviz writes version 1 when every array is small (older copies of convviz
open those files too) and version 2 otherwise; it reads both. Small arrays
stay nested lists either way, so hand-written files stay readable.

A file is at most ``MAX_FILE_BYTES``: the size of the largest state the bounds
in ``choices`` allow, in this format, with room for the settings and a title
(``MAX_TITLE`` characters). Only regular files are read (not a device, a pipe,
a socket or a folder), and never more than that many bytes, whatever the file
system says. A lecture deck (``"format": "convviz-deck"``) lists at most
``MAX_DECK_ENTRIES`` scenarios and reads at most ``MAX_DECK_BYTES`` in all (its
own file, every scenario file it names, its presets); a file it names more
than once is read once.

Saving writes a temporary file beside the target and renames it, so a failed
save never leaves a half-written file.
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from . import resources, validate
from .choices import (
    BOUNDS,
    MAX_DECK_ENTRIES,
    MAX_TITLE,
    MAX_VALUE_GRID,
    OUTPUT_LIMIT,
    SETTING_CHOICES,
    THEMES,
    VALUE_LIMIT,
)
from .lesson import Lesson
from .params import Params

#: The version convviz writes when every array is a list (older convviz reads it), and the newest.
SCHEMA_VERSION = 1
COMPACT_VERSION = 2
READ_VERSIONS = (1, 2)
FORMAT_NAME = "convviz-scenario"
DECK_FORMAT = "convviz-deck"
DECK_VERSION = 1
MAX_DEPTH = 12
THEME_NAMES = THEMES
#: Arrays of up to this many numbers are written as nested lists (the largest grid that shows its numbers).
LIST_MAX = MAX_VALUE_GRID * MAX_VALUE_GRID

_CHOICES = SETTING_CHOICES
_BOUNDS = BOUNDS


def _largest_file_bytes() -> int:
    """Bytes of the largest scenario the bounds allow, as ``dumps`` writes it, rounded up to a MiB.

    Every array at its largest shape: the output (dL/dY, the target) is at
    most the padded input's size, with as many channels as the most of the
    input and output channels. A number in a list takes at most 64 bytes
    (indent, 24 characters of ``repr``, comma, line breaks and its share of
    brackets); a compact array takes its base64 and 256 bytes of keys.
    """
    hi = {name: top for name, (_, top) in BOUNDS.items()}
    side_h, side_w = hi["in_h"] + 2 * hi["padding"], hi["in_w"] + 2 * hi["padding"]
    channels = max(hi["in_c"], hi["out_c"])
    cells = [
        hi["in_c"] * hi["in_h"] * hi["in_w"],  # input
        hi["out_c"] * hi["in_c"] * hi["k_h"] * hi["k_w"],  # kernel
        hi["out_c"],  # bias
        channels * side_h * side_w,  # typed dL/dY
        channels * side_h * side_w,  # loss target
    ]
    arrays = sum(64 * n if n <= LIST_MAX else 4 * math.ceil(8 * n / 3) + 256 for n in cells)
    rest = 64 * 1024 + 24 * MAX_TITLE  # settings, keys, theme; a title and a note, characters escaped
    mib = 1024 * 1024
    return -(-(arrays + rest) // mib) * mib


#: Largest scenario file convviz reads (and writes): the largest state the bounds allow.
MAX_FILE_BYTES = _largest_file_bytes()
#: Most bytes one lecture deck reads in all: as much as one largest scenario.
MAX_DECK_BYTES = MAX_FILE_BYTES


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
        Typed dL/dY, shape of the output (used when ``params.upstream == "custom"``).
    target : ndarray or None
        Loss target T, shape of the output (used when ``params.upstream == "loss"``).
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


@dataclass(frozen=True, eq=False)
class Deck:
    """A lecture deck: its title and its scenarios, in order (at least one)."""

    title: str
    scenarios: tuple[Scenario, ...]


# --------------------------------------------------------------------------- model <-> scenario


def _fits(a: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    return a if a is not None and a.shape == shape else None


def from_model(model: Lesson, *, theme: str = "light", title: str = "", note: str | None = None) -> Scenario:
    """The model's current state as a ``Scenario``: everything it holds, typed dL/dY and target included.

    ``note`` None keeps the one on stage. A title or note longer than ``MAX_TITLE`` characters is
    cut there (a file holds no longer one).
    """
    p = model.params
    shape = tuple(model.trace.out_shape)
    return Scenario(
        params=p, x=np.array(model.x), w=np.array(model.w), bias=model.bias_values,
        upstream=_fits(model.typed_upstream, shape), target=_fits(model.target, shape),
        theme=theme, step=model.step, title=title[:MAX_TITLE],
        note=(model.presentation.note if note is None else note)[:MAX_TITLE],
    )


def apply(model: Lesson, s: Scenario) -> bool:
    """Load ``s`` into ``model``, its title and note on stage (False, ``error`` emitted, if refused)."""
    if not model.load(s.params, x=s.x, w=s.w, bias=s.bias, upstream=s.upstream, target=s.target,
                      step=s.step):
        return False
    model.set_presentation(s.title, s.note)
    return True


# --------------------------------------------------------------------------- JSON


def _encode(a: np.ndarray | None) -> Any:
    """An array as nested lists (up to ``LIST_MAX`` numbers) or in the compact form."""
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    if a.size <= LIST_MAX:
        return a.tolist()
    return {"dtype": "float64", "shape": list(a.shape),
            "base64": base64.b64encode(a.astype("<f8").tobytes()).decode("ascii")}


def to_dict(s: Scenario) -> dict[str, Any]:
    """A JSON-ready dict of ``s`` (version 1 if every array is a list, else 2)."""
    params = {f.name: getattr(s.params, f.name) for f in fields(Params)}
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
    arrays = {"input": _encode(s.x), "kernel": _encode(s.w), "bias": _encode(s.bias),
              "upstream": _encode(s.upstream), "target": _encode(s.target)}
    compact = any(isinstance(v, dict) for v in arrays.values())
    return {
        "format": FORMAT_NAME, "version": COMPACT_VERSION if compact else SCHEMA_VERSION,
        "title": s.title, "note": s.note, "theme": s.theme, "step": int(s.step), "params": params, **arrays,
    }


def dumps(s: Scenario) -> str:
    """``s`` as JSON text."""
    return json.dumps(to_dict(s), indent=1)


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _depth(data: bytes, limit: int) -> int:
    """Deepest bracket nesting (strings included: an over-estimate is safe here).

    Only the brackets are looked at, a million at a time, and the count stops
    once it passes ``limit``: memory stays small whatever the file holds.
    """
    brackets = data.translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    chunk = 1 << 20
    for start in range(0, len(brackets), chunk):
        a = np.frombuffer(brackets, dtype=np.uint8, count=min(chunk, len(brackets) - start), offset=start)
        levels = np.cumsum(np.where((a == ord("[")) | (a == ord("{")), 1, -1)) + depth
        deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
        if deepest > limit:
            break
    return deepest


def _too_deep(depth: int, limit: int, what: str) -> None:
    if depth > limit:
        raise ScenarioError("", f"the file nests deeper than {limit} levels; it is not a {what}")


def _json(text: str) -> Any:
    """JSON data of ``text``, refused in plain words."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, or a 5000-digit number
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ScenarioError("", f"this is not valid JSON{where}: {getattr(exc, 'msg', exc)}") from None


def _version(data: dict[str, Any], known: tuple[int, ...], what: str) -> int:
    """The file's ``version``: an integer (not 1.0, not true) that this convviz reads."""
    v = data.get("version")
    reads = " or ".join(str(k) for k in known)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ScenarioError("version", f"must be a whole number ({reads}), got {validate.show(v)}")
    if v not in known:
        raise ScenarioError("version", f"this {what} is version {v}; this convviz reads version {reads}")
    return v


def _setting(name: str, value: Any) -> Any:
    try:
        return validate.setting(name, value)
    except validate.InvalidError as exc:
        raise ScenarioError(f"params.{name}", exc.message) from None


def _unpack(field: str, value: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray:
    """An array in the compact form, its size checked before it is decoded."""
    if set(value) != {"dtype", "shape", "base64"}:
        raise ScenarioError(field, "must be a grid of numbers, or an object with exactly dtype, shape "
                                   f"and base64; got the keys {', '.join(sorted(map(str, value)))}")
    if value["dtype"] != "float64":
        raise ScenarioError(field, f"dtype must be 'float64', got {validate.show(value['dtype'])}")
    s = value["shape"]
    if not isinstance(s, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in s):
        raise ScenarioError(field, f"shape must be a list of whole numbers, got {validate.show(s)}")
    if tuple(s) != shape:
        raise ScenarioError(field, f"has shape {tuple(s)} but the settings need {shape}")
    text = value["base64"]
    need = 4 * math.ceil(8 * math.prod(shape) / 3)
    if not isinstance(text, str) or len(text) != need:
        got = f"{len(text):,} characters" if isinstance(text, str) else validate.show(text)
        raise ScenarioError(field, f"base64 must be the {need:,} characters of {math.prod(shape):,} "
                                   f"numbers, got {got}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ScenarioError(field, "base64 holds characters that are not base64") from None
    return np.frombuffer(raw, dtype="<f8").reshape(shape)


def _array(field: str, value: Any, shape: tuple[int, ...], limit: float) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = _unpack(field, value, shape)
    try:
        return validate.values(field, value, shape, limit=limit)
    except validate.InvalidError as exc:
        raise ScenarioError(field, exc.message) from None


def _scenario(data: Any) -> Scenario:
    """A checked scenario from JSON data this module parsed (its arrays are taken out of it)."""
    if not isinstance(data, dict):
        raise ScenarioError("", "a scenario file holds one JSON object")
    fmt = data.get("format")
    if fmt == DECK_FORMAT:
        raise ScenarioError("format", f"this is a lecture deck ({DECK_FORMAT!r}), not a scenario; open it "
                                      "in the window")
    if fmt != FORMAT_NAME:
        raise ScenarioError("format", f"must be {FORMAT_NAME!r}; this is not a convviz scenario")
    _version(data, READ_VERSIONS, "file")
    raw = data.get("params")
    if not isinstance(raw, dict):
        raise ScenarioError("params", "must be an object with the settings")
    known = {f.name for f in fields(Params)}
    for k in raw:
        if k not in known:
            raise ScenarioError(f"params.{k}", "is not a setting convviz knows")
    p = Params(**{k: _setting(k, v) for k, v in raw.items()})
    try:
        out_shape = validate.plan(p).out_shape
    except validate.InvalidError as exc:
        raise ScenarioError("params", str(exc)) from None
    theme = data.get("theme", "light")
    if theme not in THEME_NAMES:
        raise ScenarioError("theme", f"must be one of {', '.join(THEME_NAMES)}; got {validate.show(theme)}")
    step = data.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ScenarioError("step", f"must be a whole number from 0 up, got {validate.show(step)}")
    title, note = _text(data, "title"), _text(data, "note")
    # ``data`` is always convviz's own parse of the text: each array's text is dropped once decoded.
    return Scenario(
        params=p,
        x=_array("input", data.pop("input", None), (p.in_c, p.in_h, p.in_w), VALUE_LIMIT),
        w=_array("kernel", data.pop("kernel", None), (p.out_c, p.group_in, p.k_h, p.k_w), VALUE_LIMIT),
        bias=_array("bias", data.pop("bias", None), (p.out_c,), VALUE_LIMIT),
        upstream=_array("upstream", data.pop("upstream", None), out_shape, OUTPUT_LIMIT),
        target=_array("target", data.pop("target", None), out_shape, OUTPUT_LIMIT),
        theme=theme, step=step, title=title, note=note,
    )


def _too_large(size: int, limit: int) -> str:
    return f"{size / 1e6:,.0f} MB; scenario files are at most {limit // (1024 * 1024)} MB"


def loads(text: str) -> Scenario:
    """Parse and check a scenario from JSON text.

    Raises
    ------
    ScenarioError
        Naming the field that is wrong.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError("", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    _too_deep(_depth(text.encode("utf-8", "replace"), MAX_DEPTH), MAX_DEPTH, "scenario")
    return _scenario(_json(text))


def shown_name(path: str | os.PathLike[str]) -> str:
    """A file's name for a message: control characters (a NUL byte …) escaped, never raising."""
    try:
        name = Path(path).name or os.fspath(path)
    except TypeError:
        return validate.show(path)
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        return name.encode("unicode_escape", "backslashreplace").decode("ascii")
    return name


def read_bounded(path: str | os.PathLike[str], limit: int, what: str = "scenario files",
                 over: str = "") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Devices (``/dev/zero``), pipes, sockets and folders are refused before
    they are opened; the file is opened without blocking, checked again once
    open, and read up to ``limit + 1`` bytes whatever its size said. A file
    over the limit is refused in words naming ``what`` the limit is for, or
    with ``over`` when given.

    Raises
    ------
    ScenarioError
        In plain words for any path (a NUL byte in it included).
    """
    name = shown_name(path)
    try:
        st = os.stat(path)
    except (ValueError, TypeError):  # a NUL byte, an unencodable character, not a path at all
        raise ScenarioError("", f"cannot open {name}: a file name cannot hold that character") from None
    except OSError as exc:
        raise ScenarioError("", f"cannot open {name}: {exc.strerror or exc}") from None

    def check(mode: int, size: int) -> None:
        if stat.S_ISDIR(mode):
            raise ScenarioError("", f"{name} is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise ScenarioError("", f"{name} is not an ordinary file (a device, a pipe or a socket); "
                                    "convviz reads files only")
        if size > limit:
            raise ScenarioError("", over or f"{name} is {size / 1e6:,.0f} MB; {what} are at most "
                                            f"{limit // (1024 * 1024)} MB")

    check(st.st_mode, st.st_size)
    flags = os.O_RDONLY
    for extra in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC"):  # a FIFO put there meanwhile cannot block
        flags |= getattr(os, extra, 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ScenarioError("", f"cannot open {name}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        check(st.st_mode, st.st_size)  # the path may name something else by now
        parts, got = [], 0
        ask = min(limit, st.st_size) + 1  # usually the whole file in one read (and no copy to join)
        while got <= limit:
            part = os.read(fd, min(limit + 1 - got, ask))
            if not part:
                break
            parts.append(part)
            got += len(part)
            ask = 1 << 24
    except OSError as exc:
        raise ScenarioError("", f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if got > limit:
        raise ScenarioError("", over or f"{name} is larger than {limit // (1024 * 1024)} MB; {what} are at "
                                        "most that")
    return b"".join(parts)


def _read_json(path: str | os.PathLike[str], limit: int, what: str = "scenario files",
               over: str = "") -> tuple[Any, int, int]:
    """JSON data of a file, its bracket depth and its size in bytes (``read_bounded`` reads it).

    The depth limit here is a deck's (two levels deeper than a scenario). Each
    form of the file is dropped once the next exists: bytes, then text.
    """
    data = read_bounded(path, limit, what, over)
    size, depth = len(data), _depth(data, MAX_DEPTH + 2)
    _too_deep(depth, MAX_DEPTH + 2, "scenario or lecture deck")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("", f"{shown_name(path)} is not a text file") from None
    del data
    return _json(text), depth, size


def load(path: str | os.PathLike[str]) -> Scenario:
    """Read and check a scenario file (at most ``MAX_FILE_BYTES`` of a regular file)."""
    parsed, depth, _ = _read_json(path, MAX_FILE_BYTES)
    _too_deep(depth, MAX_DEPTH, "scenario")
    return _scenario(parsed)


def read(path: str | os.PathLike[str]) -> Scenario | Deck:
    """Open a scenario or a lecture deck: the file is parsed once and its ``format`` decides.

    Raises
    ------
    ScenarioError
        Naming the field (``scenarios[2].params.stride``) that is wrong.
    """
    parsed, depth, used = _read_json(path, MAX_FILE_BYTES, "scenario files and decks")
    if isinstance(parsed, dict) and parsed.get("format") == DECK_FORMAT:
        return _deck(parsed, Path(path).parent, used)
    _too_deep(depth, MAX_DEPTH, "scenario")
    return _scenario(parsed)


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
        With nothing left behind when the folder is not writable, the disk is
        full or the name cannot be a file name (a NUL byte in it).
    """
    try:
        os.fsencode(path)
        if "\0" in os.fspath(path):
            raise ValueError("NUL")
    except (ValueError, TypeError):
        raise OSError(errno.EINVAL, "a file name cannot hold that character") from None
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
    """Write ``s`` to ``path`` atomically.

    Raises
    ------
    OSError
        As ``atomic_write``; also (``EFBIG``, nothing written) if the file would
        be larger than convviz opens, which the bounds make impossible.
    """
    data = dumps(s).encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise OSError(errno.EFBIG, f"the scenario would be {_too_large(len(data), MAX_FILE_BYTES)}")
    atomic_write(path, data)


# --------------------------------------------------------------------------- presets


def list_presets() -> list[str]:
    """Names of the built-in presets, sorted."""
    return resources.preset_names()


def _preset_text(name: str) -> str:
    try:
        return resources.preset_text(name)
    except KeyError as exc:
        raise ScenarioError("", str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError("", f"cannot read the preset {name!r}: {exc}") from None


def load_preset(name: str) -> Scenario:
    """A built-in preset by name (shipped in the wheel; see ``gui.models.resources``)."""
    return loads(_preset_text(name))


# --------------------------------------------------------------------------- lecture decks


def from_dict(data: Any) -> Scenario:
    """A scenario from an already-parsed JSON object (see ``loads``)."""
    try:
        text = json.dumps(data)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ScenarioError("", f"this is not JSON data: {exc}") from None
    return loads(text)


def _text(data: dict[str, Any], key: Literal["title", "note"]) -> str:
    """A scenario's (or a deck entry's) ``title`` or ``note``: text of at most ``MAX_TITLE`` characters
    ("" when absent)."""
    text = data.get(key, "")
    if not isinstance(text, str):
        raise ScenarioError(key, "must be text")
    if len(text) > MAX_TITLE:
        raise ScenarioError(key, f"is {len(text):,} characters long; a {key} has at most {MAX_TITLE:,}")
    return text


#: The keys of a deck entry that names a preset and gives it the lecturer's words.
PRESET_ENTRY_KEYS = ("preset", "title", "note")


def _preset_entry(e: dict[str, Any], base: Callable[[str], Scenario]) -> Scenario:
    """A deck entry ``{"preset": NAME, "note": …, "title": …}``: preset ``base(NAME)`` with the entry's
    words (its own title and note stay where the entry gives none)."""
    name = e["preset"]
    if not isinstance(name, str):
        raise ScenarioError("preset", f"must be a preset's name, got {validate.show(name)}")
    other = sorted(str(k) for k in e if k not in PRESET_ENTRY_KEYS)
    if other:
        raise ScenarioError(other[0], 'is not read here: an entry naming a preset takes "preset", "title" '
                                      'and "note" (a whole scenario object has "params" and no "preset")')
    scene = base(name)
    return replace(scene, title=_text(e, "title") if "title" in e else scene.title,
                   note=_text(e, "note") if "note" in e else scene.note)


def _deck(data: dict[str, Any], folder: Path, used: int) -> Deck:
    """A checked deck from parsed data; ``used`` bytes of the deck budget are spent already."""
    _version(data, (DECK_VERSION,), "deck")
    entries = data.get("scenarios")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError("scenarios", "must be a non-empty list")
    if len(entries) > MAX_DECK_ENTRIES:
        raise ScenarioError("scenarios", f"holds {len(entries):,} scenarios; a deck holds at most "
                                         f"{MAX_DECK_ENTRIES}")
    title = data.get("title", "")
    title = title if isinstance(title, str) else ""
    if len(title) > MAX_TITLE:
        raise ScenarioError("title", f"is {len(title):,} characters long; a title has at most {MAX_TITLE:,}")
    seen: dict[object, Scenario] = {}  # a file or preset named twice is read once

    def preset(name: str) -> Scenario:
        nonlocal used
        if ("preset", name) not in seen:
            text = _preset_text(name)
            used += len(text)
            if used > MAX_DECK_BYTES:
                raise ScenarioError("", _deck_full())
            seen["preset", name] = loads(text)
        return seen["preset", name]

    out = []
    for k, e in enumerate(entries):
        try:
            if isinstance(e, str) and e.startswith("preset:"):
                out.append(preset(e.removeprefix("preset:")))
            elif isinstance(e, dict) and "preset" in e:  # a preset with the lecturer's note (or title)
                out.append(_preset_entry(e, preset))
            elif isinstance(e, str):
                path = Path(e) if Path(e).is_absolute() else folder / e
                key = _identity(path)
                if key not in seen:
                    left = MAX_DECK_BYTES - used
                    parsed, depth, size = _read_json(path, min(MAX_FILE_BYTES, left),
                                                     over=_deck_full() if left < MAX_FILE_BYTES else "")
                    used += size
                    _too_deep(depth, MAX_DEPTH, "scenario")
                    seen[key] = _scenario(parsed)
                out.append(seen[key])
            elif isinstance(e, dict):
                out.append(_scenario(e))  # its depth is the deck's, checked
            else:
                raise ScenarioError("", "must be 'preset:NAME', {\"preset\": NAME, \"note\": …}, a file "
                                        "path or a scenario object")
        except ScenarioError as exc:
            raise ScenarioError(f"scenarios[{k}]" + (f".{exc.field}" if exc.field else ""),
                                str(exc).split(": ", 1)[-1] if exc.field else str(exc)) from None
    if "view" in data:  # the deck draws every scenario this way (a whole lecture in the stage view)
        try:
            view = validate.setting("view", data["view"])
        except validate.InvalidError as exc:
            raise ScenarioError("view", exc.message) from None
        out = [replace(s, params=replace(s.params, view=view)) for s in out]
    return Deck(title, tuple(out))


def _deck_full() -> str:
    return f"the deck reads more than {MAX_DECK_BYTES // (1024 * 1024)} MB in all; a deck reads at most that"


def _identity(path: Path) -> object:
    """What makes two paths the same file (the same device and inode), or the path itself."""
    try:
        st = os.stat(path)
    except (OSError, ValueError, TypeError):
        return ("path", os.fspath(path))
    return ("file", st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def load_deck(path: str | os.PathLike[str]) -> tuple[str, list[Scenario]]:
    """A lecture deck: an ordered list of scenarios in one file.

    The file is ``{"format": "convviz-deck", "version": 1, "title": …, "scenarios": [...]}``
    where each entry is ``"preset:NAME"``, ``{"preset": NAME, "note": …, "title": …}`` (a preset
    with the lecturer's words: ``note`` and ``title`` optional, each replacing the preset's own), a
    scenario file path (relative to the deck), or a whole scenario object. An optional ``"view"``
    (``"flat"`` or ``"stage"``) draws every scenario of the deck that way.

    Returns
    -------
    (title, scenarios)

    Raises
    ------
    ScenarioError
        Naming the entry (``scenarios[2].params.stride``) that is wrong.
    """
    doc = read(path)
    if not isinstance(doc, Deck):
        raise ScenarioError("format", f"must be {DECK_FORMAT!r}; this is not a convviz lecture deck")
    return doc.title, list(doc.scenarios)
