"""Frames as data: the ``convviz-frames`` JSON format (Qt-free).

One document holds the frames of a range of steps, each as the stage shows
it::

    {"format": "convviz-frames", "version": 1, "title": "...", "n_steps": 25, "expanded": false,
     "frames": [{"step": 3, "title": "Convolution", "caption": "Convolution — Step 4 of 25: ...",
                 "arithmetic": "...", "formula": [["H_out = ...", "... = 5"], ...],
                 "parameter_line": "Parameters: ...",
                 "panels": [{"name": "input", "title": "Input 5×5 + padding", "shape": [1, 7, 7],
                             "front": 0, "values": [[[0.0, ...], ...]], "labels": [[["0", ...], ...]]},
                            ...]}]}

- ``step`` counts from 0 (as ``--steps`` does); ``title`` is the caption's heading (the
  operation and pass, before "Step k of n"); ``caption`` and ``arithmetic`` are the painted text
  (the arithmetic's lines split by ``\\n``); ``formula`` lists the output-size formulas as
  ``[general, filled in]`` pairs.
- ``shape`` is ``[n, h, w]``: ``n`` grids (channels) of ``h`` rows and ``w`` columns, ``n = 1``
  for a single grid; ``values`` and ``labels`` are nested lists of that shape; ``front`` is the
  grid drawn in front when the channels are stacked.
- A value is a number; ``null`` where nothing is computed yet (the cell is painted empty) or the
  cell holds no number (a gap between a dilated pooling window's taps; its taps hold 1); the
  strings ``"-inf"`` and ``"inf"`` for the padding of
  max and min pooling (painted "−∞"/"∞"), so that every file is strict JSON and padding is told
  apart from an empty cell.
- ``motion`` (convolution and pooling forward steps) lists what travels during the glide to the
  frame, in order:
  each product ``{"kind": "product", "from": {"panel": "input", "grid": 0, "cell": [r, c]},
  "text": "2·(−1)", "slot": 3, "start": 18}`` flies from its input cell (padded coordinates) into
  term ``slot`` of the arithmetic, whose text starts at character ``start``; then the sum
  (``"kind": "sum"``, ``"to"`` the output cell) flies from the line into its cell. At a pooling step
  each value under the window (``"kind": "value"``) flies into "max(…)"/the average, then the result.
- ``labels`` are exactly the strings painted in the cells, ``""`` where none is; a panel whose
  cells carry small corner text (how many windows reached a dL/dX cell) has ``corner`` too.

The writer streams: one frame is built, written and dropped at a time, so a file of
thousands of frames needs no more memory than one frame.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .exportplan import Announce, Progress, Ticker
from .filechecks import check_json
from .frame import Frame, Panel
from .lesson import Lesson
from .motion import Motion
from .outfiles import AtomicFile, resolve_target

__all__ = ["FORMAT", "VERSION", "frame_to_dict", "frames_to_json", "write_frames_json"]

FORMAT = "convviz-frames"
VERSION = 1
_HEADING = re.compile(r" — [Ss]tep \d+ of \d+")


def _values(a: np.ndarray) -> list[Any]:
    """``a`` as nested lists: numbers, None for NaN, "inf"/"-inf" for ±inf."""
    out = a.astype(object)
    out[np.isnan(a)] = None
    out[np.isposinf(a)] = "inf"
    out[np.isneginf(a)] = "-inf"
    return out.tolist()


def _panel(p: Panel) -> dict[str, Any]:
    values = np.stack([np.asarray(g.values, dtype=float) for g in p.grids])
    labels = np.stack([np.asarray(g.labels, dtype=object) for g in p.grids])
    for k, g in enumerate(p.grids):  # cells not computed yet are painted empty
        if g.pending_from is not None:
            values[k].reshape(-1)[g.pending_from:] = np.nan
            labels[k].reshape(-1)[g.pending_from:] = ""
    out: dict[str, Any] = {
        "name": p.name, "title": p.title, "shape": list(values.shape), "front": p.front,
        "values": _values(values), "labels": labels.astype(str).tolist(),
    }
    if any(g.corner is not None for g in p.grids):
        out["corner"] = [np.full(g.shape, "", dtype=object).tolist() if g.corner is None
                         else np.asarray(g.corner).astype(str).tolist() for g in p.grids]
    return out


def frame_to_dict(f: Frame) -> dict[str, Any]:
    """One frame of the ``convviz-frames`` format (see the module's docstring)."""
    return {
        "step": f.step_index,
        "title": _HEADING.split(f.caption, maxsplit=1)[0],
        "caption": f.caption,
        "arithmetic": f.arithmetic,
        "formula": [list(pair) for pair in f.formulas],
        "parameter_line": f.parameter_line,
        "panels": [_panel(p) for p in f.panels],
        **({"motion": _motion(f.motion)} if f.motion is not None else {}),
    }


def _motion(m: Motion) -> list[dict[str, Any]]:
    """What travels during the glide to a frame, in order (see the module's docstring)."""
    return [{"kind": t.kind, "from" if t.into_line else "to": {"panel": t.panel, "grid": t.grid,
                                                                         "cell": list(t.cell)},
             "text": t.text, "slot": t.slot, "start": t.start} for t in m.travels]


def _head(lesson: Lesson, title: str, expanded: bool) -> dict[str, Any]:
    title = title or lesson.presentation.title  # the scenario's own title when none is given
    return {"format": FORMAT, "version": VERSION, "title": title, "n_steps": lesson.n_steps,
            "expanded": expanded}


def frames_to_json(lesson: Lesson, steps: range, expanded: bool = False, *,
                   title: str = "") -> dict[str, Any]:
    """The frames of ``steps`` as one ``convviz-frames`` document (in memory: for a few frames).

    ``lesson`` is only read.
    """
    doc = _head(lesson, title, expanded)
    doc["frames"] = [frame_to_dict(lesson.frame(k, expanded=expanded)) for k in steps]
    return doc


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def _chunks(lesson: Lesson, steps: range, expanded: bool, title: str,
            tick: Callable[[int], None]) -> Iterator[bytes]:
    """The document in pieces: the opening, one frame at a time, the closing."""
    head = _dump(_head(lesson, title, expanded))
    yield (head[:-1] + ', "frames": [').encode("utf-8")
    for n, k in enumerate(steps):
        tick(n)
        text = _dump(frame_to_dict(lesson.frame(k, expanded=expanded)))
        yield (("\n" if n == 0 else ",\n") + text).encode("utf-8")
    tick(len(steps))
    yield b"\n]}\n"


def write_frames_json(lesson: Lesson, out: str | os.PathLike[str], steps: range | None = None, *,
                      expanded: bool = False, title: str = "", progress: Progress | None = None,
                      announce: Announce | None = None) -> Path:
    """Write ``steps`` (default: all) of a copy of ``lesson`` to ``out`` as ``convviz-frames`` JSON.

    Streams frame by frame and writes atomically (see ``gui.models.outfiles``).

    Raises
    ------
    ExportError
        With a plain message; nothing is left behind.
    """
    target = resolve_target(out, "json", folder=False)
    model = lesson.copy()
    steps = range(model.n_steps) if steps is None else steps
    tick = Ticker(len(steps), progress, announce)
    opening = (_dump(_head(model, title, expanded))[:-1] + ', "frames": [').encode("utf-8")
    with AtomicFile(target, lambda p: check_json(p, opening, b"\n]}\n")) as f:
        for chunk in _chunks(model, steps, expanded, title, tick):
            f.write(chunk)
    return target
