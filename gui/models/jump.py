"""A far jump in a backward lesson, worked out in two halves: a pure computation, then a cheap landing.

A backward step reads the gradients accumulated so far (``partial``). Near
the step shown they are reached one window at a time; a jump further than
the trace's reach recomputes the whole prefix in one vectorised pass, which
on the largest settings takes seconds. ``far_jump`` says whether moving to a
step needs that pass and, if so, returns the pass as a function that reads
only read-only arrays (any thread may run it); ``land`` hands its result to
the trace (a checkpoint) and moves the lesson to the step, which is then
cheap to draw. The gather view (the backward pass as a transposed
convolution) has no prefix to recompute, but each of its steps copies the
whole gradient grid; a jump there is split the same way (``Gathered``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import engine
from engine.cancel import checkpoint

from .lesson import Lesson, Run

__all__ = ["Gathered", "Reached", "far_jump", "land"]


@dataclass(frozen=True, eq=False)
class Reached:
    """The gradients after a backward step, worked out off the UI thread, not handed to the trace yet.

    Attributes
    ----------
    base : int
        The lesson's ``version`` it was worked out from; ``land`` drops it once the lesson changed.
    step : int
        The lesson's step to show.
    trace : engine.ConvBackwardTrace
        The trace it belongs to.
    index : int
        The step within ``trace`` (``step`` less the forward steps).
    totals : tuple of ndarray
        ``trace.totals_at(index)``: ``gxp (C_in, Hp, Wp)``, ``gw (C_out, C_in/groups, kh, kw)``,
        ``gb (C_out,)``.
    """

    base: int
    step: int
    trace: engine.ConvBackwardTrace
    index: int
    totals: tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class Gathered:
    """The gather view's gradient after a step, worked out off the UI thread, not handed to its trace yet.

    Attributes
    ----------
    base, step, index : int
        As ``Reached``; ``index`` is the step within ``trace``.
    trace : engine.ConvTrace
        The gather view's trace (one step per padded-input cell).
    out : ndarray, shape (C_in, Hp, Wp)
        ``trace.partial(index)``: ``dL/dX_padded`` gathered so far (NaN where not yet).
    """

    base: int
    step: int
    trace: engine.ConvTrace
    index: int
    out: np.ndarray


def far_jump(lesson: Lesson, k: int) -> Callable[[], Reached | Gathered] | None:
    """The work that moving ``lesson`` to step ``k`` would otherwise do on the caller's thread, or None.

    None when the step is cheap to show: not a backward step of a convolution,
    one its trace reaches from the running totals or a checkpoint, the last
    step once the run's final gradients are known (they are handed to the
    trace here), or one step from the current one in the gather view. Call on the
    thread that owns the lesson; run the returned function anywhere (it stops
    at the engine's checkpoints).
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        return None  # ``set_step`` explains what is wrong with it
    k = max(0, min(int(k), lesson.n_steps - 1))
    r, nf = lesson.run, lesson.n_forward
    trace = r.bwd
    if k < nf or not isinstance(trace, engine.ConvBackwardTrace):
        return None
    if r.scatter is not None and k <= len(r.scatter):
        return None
    if lesson.params.grad_view == "gather" and r.gather is not None:
        return _far_gather(lesson, k)
    index = k - nf
    if trace.reaches(index) or (index == len(trace) - 1 and _adopt_final(r, trace)):
        return None
    base = lesson.version
    return lambda: Reached(base, k, trace, index, trace.totals_at(index))


def _far_gather(lesson: Lesson, k: int) -> Callable[[], Gathered] | None:
    """A move of more than one step in the gather view: its gradient so far, worked out anywhere.

    Every gather step copies the whole output (NaN past the step): at the
    largest settings that, and the last step's comparison with the scatter's
    gradient, take longer than a frame. A single step (the step keys,
    playback) stays on the caller's thread.
    """
    if abs(k - lesson.step) <= 1:
        return None
    r = lesson.run
    assert r.gather is not None
    trace, index, base = r.gather.trace, k - lesson.n_forward, lesson.version

    def work() -> Gathered:
        out = trace.partial(index)
        if index == len(trace) - 1 and r.known_final() is not None:
            checkpoint()
            r.gather_check()  # kept by the run: the last step's frame only reads it
        return Gathered(base, k, trace, index, out)

    return work


def _adopt_final(run: Run, trace: engine.ConvBackwardTrace) -> bool:
    """Hand ``run``'s final gradients, when already known, to ``trace`` as its last step's checkpoint.

    They are ``trace.partial(len(trace) - 1)``'s totals, worked out when the
    lesson was built (its colour levels): the last step (End) is then reached
    without recomputing the whole prefix. False when they are not known yet.
    """
    final = run.known_final()
    if final is None or final.grad_w is None or final.grad_bias is None:
        return False
    trace.adopt(len(trace) - 1, (final.grad_x_padded, final.grad_w, final.grad_bias))
    return True


def land(lesson: Lesson, reached: Reached | Gathered) -> bool:
    """Hand ``reached`` to its trace and move ``lesson`` to its step.

    Returns
    -------
    bool
        False, with nothing changed, when the lesson changed since the work
        started (its trace is gone: the result is stale).
    """
    if reached.base != lesson.version:
        return False
    if isinstance(reached, Gathered):
        gather = lesson.run.gather
        if gather is None or gather.trace is not reached.trace:
            return False
        reached.trace.adopt(reached.index, reached.out)
    else:
        if lesson.run.bwd is not reached.trace:
            return False
        reached.trace.adopt(reached.index, reached.totals)
    return lesson.set_step(reached.step)
