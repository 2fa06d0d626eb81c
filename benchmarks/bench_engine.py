"""Benchmark the NumPy engine against its goals, and against PyTorch CPU when it is installed.

Run from the repository root::

    .venv/bin/python benchmarks/bench_engine.py [--repeat N] [--no-torch]

Everything runs in one process on one problem: ``x (3, 512, 512)``,
``w (8, 3, 3, 3)``, stride 1, padding 1, float64. Times are the best of
``--repeat`` runs (``time.perf_counter``) after one warm-up call. The script
prints one table with a PASS/MISS column against each goal:

* engine / torch time ratio <= 1.0 for conv2d forward, backward and both
  (max pool 2x2 and avg pool 3x3, stride 1, padding 1, are shown beside
  PyTorch for information: there is no goal for them; so are a depthwise
  conv2d, ``w (3, 1, 3, 3)`` with ``groups=3``, and a transposed convolution,
  ``x (3, 256, 256)``, ``w (3, 8, 4, 4)``, stride 2, padding 1);
* fetching one random step of a conv trace (forward and backward) < 1 ms,
  the mean over 2000 random indices;
* ``trace.partial(i)`` for a random ``i`` no slower than one full
  vectorised pass (the engine's forward, resp. backward, call);
* peak memory (``tracemalloc``) while creating a trace and fetching steps
  < 10x ``x.nbytes``;
* at the largest lesson setting (``x (16, 512, 512)``, ``w (16, 16, 15, 15)``),
  one backward step mid-trace (forward and back) <= 2x one forward step,
  beside what a backward step cost when it recomputed the whole prefix.

It reads the environment but never changes it; ``OPENBLAS_CORETYPE`` is
reported when set because a wrong core type can slow NumPy's BLAS down.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SHAPE_X = (3, 512, 512)
SHAPE_W = (8, 3, 3, 3)
N_STEPS = 2000


def best_of(fn: Callable[[], object], repeat: int, setup: Callable[[], Any] | None = None) -> float:
    """Best wall time of ``fn`` in seconds over ``repeat`` runs, after one warm-up run.

    Parameters
    ----------
    fn : callable
        Called with no argument, or with ``setup()``'s result when ``setup`` is given.
    repeat : int
    setup : callable, optional
        Run before every call of ``fn`` and not timed.

    Returns
    -------
    float
    """
    times = []
    for k in range(repeat + 1):
        arg = setup() if setup is not None else None
        t0 = time.perf_counter()
        fn(arg) if setup is not None else fn()  # type: ignore[call-arg]
        dt = time.perf_counter() - t0
        if k:
            times.append(dt)
    return min(times)


def mean_step_fetch(trace: Any, rng: np.random.Generator, rounds: int = 3) -> float:
    """Mean seconds to fetch ``trace[i]`` for ``N_STEPS`` random ``i``; the best of ``rounds`` rounds."""
    best = np.inf
    for _ in range(rounds):
        idx = rng.integers(0, len(trace), N_STEPS).tolist()
        t0 = time.perf_counter()
        for i in idx:
            trace[i]
        best = min(best, (time.perf_counter() - t0) / N_STEPS)
    return best


def peak_memory(build: Callable[[], Any], rng: np.random.Generator, steps: int = 200) -> int:
    """Peak bytes ``tracemalloc`` sees while ``build()`` makes a trace and ``steps`` random steps are read."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        trace = build()
        for i in rng.integers(0, len(trace), steps).tolist():
            trace[i]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


class Table:
    """Rows of figures, printed as one aligned table."""

    HEAD = ("what is timed", "engine", "reference", "ratio", "goal", "status")

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, what: str, engine: str, reference: str = "-", ratio: float | None = None,
            goal: str = "-", ok: bool | None = None) -> None:
        """Add a row; ``ok`` None means no verdict (shown as ``-``)."""
        status = "-" if ok is None else ("PASS" if ok else "MISS")
        self.rows.append((what, engine, reference, "-" if ratio is None else f"{ratio:.2f}", goal, status))

    def print(self) -> None:
        """Print the table to stdout."""
        rows = [self.HEAD, *self.rows]
        widths = [max(len(r[k]) for r in rows) for k in range(len(self.HEAD))]
        for n, r in enumerate(rows):
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
            print("  ".join(cells))
            if n == 0:
                print("  ".join("-" * w for w in widths))


def ms(seconds: float) -> str:
    """Seconds as milliseconds text."""
    return f"{seconds * 1e3:.2f} ms"


def load_torch(disabled: bool) -> Any:
    """``torch`` when it imports (and is not disabled), else None with the reason printed."""
    if disabled:
        print("torch: disabled by --no-torch; reference columns skipped")
        return None
    try:
        import torch
    except Exception as exc:  # any import failure means: no reference
        print(f"torch: not available ({type(exc).__name__}: {exc}); reference columns skipped")
        return None
    return torch


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; returns 0 (the MISS column is informative)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per figure (default 10)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference columns")
    parser.add_argument("--no-largest", action="store_true",
                        help="skip the trace steps at the largest lesson setting (16x512x512, 15x15)")
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    sys.path.insert(0, str(ROOT))
    import engine

    torch = load_torch(args.no_torch)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPU(s), "
          f"{platform.machine()}")
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s), float64 CPU")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if var in os.environ:
            extra = " (NOTE: a forced core type can slow NumPy's BLAS)" if var == "OPENBLAS_CORETYPE" else ""
            print(f"environment: {var}={os.environ[var]}{extra}")
    print(f"problem: x {SHAPE_X}, w {SHAPE_W}, stride 1, padding 1, float64; "
          f"best of {repeat} runs after a warm-up")

    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE_X)
    w = rng.standard_normal(SHAPE_W)
    y = engine.conv2d(x, w, padding=1)
    dy = rng.standard_normal(y.shape)
    table = Table()

    # ----------------------------------------------------------------- convolution
    t_fwd = best_of(lambda: engine.conv2d(x, w, padding=1), repeat)
    t_bwd = best_of(lambda: engine.conv2d_backward(x, w, dy, padding=1), repeat)
    t_both = best_of(lambda: (engine.conv2d(x, w, padding=1), engine.conv2d_backward(x, w, dy, padding=1)),
                     repeat)
    ref: dict[str, float] = {}
    if torch is not None:
        F = torch.nn.functional
        xt, wt, dyt = (torch.from_numpy(a)[None] for a in (x, w, dy))
        wt = wt[0]
        xr, wr = xt.clone().requires_grad_(True), wt.clone().requires_grad_(True)

        def fresh_graph() -> Any:
            return F.conv2d(xr, wr, padding=1)

        ref["fwd"] = best_of(lambda: F.conv2d(xt, wt, padding=1), repeat)
        ref["bwd"] = best_of(lambda yr: torch.autograd.grad(yr, (xr, wr), dyt), repeat, setup=fresh_graph)
        ref["both"] = best_of(lambda: torch.autograd.grad(F.conv2d(xr, wr, padding=1), (xr, wr), dyt), repeat)
    print(
        "\nWhat is timed. engine: engine.conv2d / engine.conv2d_backward, the public calls with their\n"
        "  argument checks (backward returns grad_x, grad_w and grad_bias); pooling likewise.\n"
        "torch forward: F.conv2d on tensors that need no grad.\n"
        "torch backward: torch.autograd.grad(y, (x, w), dy) alone, grad_x and grad_w, on a graph of\n"
        "  y = F.conv2d(x, w) built before the timer starts (pooling: grad_x only, likewise).\n"
        "torch forward+backward: F.conv2d with grad plus that torch.autograd.grad call, timed together.\n"
        "  For pooling the engine's figure is the sum of its forward and backward times. torch's max pool\n"
        "  backward reuses the indices its forward saved; the engine's stateless backward finds them again."
    )
    for key, what, t in (("fwd", "conv2d forward", t_fwd), ("bwd", "conv2d backward", t_bwd),
                         ("both", "conv2d forward+backward", t_both)):
        if key in ref:
            r = t / ref[key]
            table.add(what, ms(t), ms(ref[key]), r, "ratio <= 1.0", r <= 1.0)
        else:
            table.add(what, ms(t))

    # ----------------------------------------------------------------- pooling
    pools = (
        ("max pool 2x2", dict(kernel_size=2, op="max"), dict(kernel_size=2)),
        ("avg pool 3x3 s1 p1", dict(kernel_size=3, op="avg", stride=1, padding=1),
         dict(kernel_size=3, stride=1, padding=1)),
    )
    for name, ekw, tkw in pools:
        py = engine.pool2d(x, **ekw)
        pdy = rng.standard_normal(py.shape)
        te_f = best_of(lambda ekw=ekw: engine.pool2d(x, **ekw), repeat)
        te_b = best_of(lambda ekw=ekw, pdy=pdy: engine.pool2d_backward(x, pdy, **ekw), repeat)
        if torch is not None:
            fn = F.max_pool2d if ekw["op"] == "max" else F.avg_pool2d
            pdyt = torch.from_numpy(pdy)[None]
            tt_f = best_of(lambda fn=fn, tkw=tkw: fn(xt, **tkw), repeat)
            tt_b = best_of(lambda yr, pdyt=pdyt: torch.autograd.grad(yr, (xr,), pdyt), repeat,
                           setup=lambda fn=fn, tkw=tkw: fn(xr, **tkw))
            tt_fb = best_of(lambda fn=fn, tkw=tkw, pdyt=pdyt: torch.autograd.grad(fn(xr, **tkw), (xr,), pdyt),
                            repeat)
            for part, te, tt in (("forward", te_f, tt_f), ("backward", te_b, tt_b),
                                 ("forward+backward", te_f + te_b, tt_fb)):
                table.add(f"{name} {part}", ms(te), ms(tt), te / tt, "info")
        else:
            for part, te in (("forward", te_f), ("backward", te_b), ("forward+backward", te_f + te_b)):
                table.add(f"{name} {part}", ms(te))

    # ----------------------------------------------------------------- the rest of the family (info)
    wd = rng.standard_normal((3, 1, 3, 3))
    xs = x[:, :256, :256]
    wtr = rng.standard_normal((3, 8, 4, 4))
    dyd = rng.standard_normal(engine.conv2d(x, wd, padding=1, groups=3).shape)
    dyt = rng.standard_normal(engine.conv_transpose2d(xs, wtr, stride=2, padding=1).shape)
    family = (
        ("depthwise conv2d (groups=3)",
         lambda: engine.conv2d(x, wd, padding=1, groups=3),
         lambda: engine.conv2d_backward(x, wd, dyd, padding=1, groups=3),
         x, wd, dyd, lambda a, b: F.conv2d(a, b, padding=1, groups=3)),
        ("conv_transpose2d s2 k4",
         lambda: engine.conv_transpose2d(xs, wtr, stride=2, padding=1),
         lambda: engine.conv_transpose2d_backward(xs, wtr, dyt, stride=2, padding=1),
         xs, wtr, dyt, lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1)),
    )
    for name, fwd, bwd, fx, fw, fdy, torch_fn in family:
        te_f, te_b = best_of(fwd, repeat), best_of(bwd, repeat)
        if torch is None:
            table.add(f"{name} forward", ms(te_f))
            table.add(f"{name} backward", ms(te_b))
            continue
        txa = torch.from_numpy(np.ascontiguousarray(fx))[None]
        twa = torch.from_numpy(fw)
        txr, twr = txa.clone().requires_grad_(True), twa.clone().requires_grad_(True)
        tdy = torch.from_numpy(fdy)[None]
        tt_f = best_of(lambda torch_fn=torch_fn, txa=txa, twa=twa: torch_fn(txa, twa), repeat)
        tt_b = best_of(lambda yr, txr=txr, twr=twr, tdy=tdy: torch.autograd.grad(yr, (txr, twr), tdy), repeat,
                       setup=lambda torch_fn=torch_fn, txr=txr, twr=twr: torch_fn(txr, twr))
        table.add(f"{name} forward", ms(te_f), ms(tt_f), te_f / tt_f, "info")
        table.add(f"{name} backward", ms(te_b), ms(tt_b), te_b / tt_b, "info")

    # ----------------------------------------------------------------- traces
    trace_f = engine.trace_conv2d(x, w, padding=1)
    trace_b = engine.trace_conv2d_backward(x, w, dy, padding=1)
    for name, tr in (("trace_conv2d", trace_f), ("trace_conv2d_backward", trace_b)):
        t = mean_step_fetch(tr, rng)
        table.add(f"{name}[random i], mean of {N_STEPS}", ms(t), goal="< 1 ms", ok=t < 1e-3)
    t0 = time.perf_counter()
    trace_f.partial(int(rng.integers(len(trace_f))))
    t_cold = time.perf_counter() - t0
    table.add("ConvTrace.partial(i), first call", ms(t_cold), f"forward {ms(t_fwd)}", t_cold / t_fwd,
              "info: computes output")
    for name, tr, t_pass, pass_name in (
        ("ConvTrace.partial(random i)", trace_f, t_fwd, "forward"),
        ("ConvBackwardTrace.partial(random i)", trace_b, t_bwd, "backward"),
    ):
        t = best_of(lambda i, tr=tr: tr.partial(i), repeat, setup=lambda tr=tr: int(rng.integers(len(tr))))
        table.add(name, ms(t), f"{pass_name} {ms(t_pass)}", t / t_pass, f"<= 1 {pass_name} pass", t <= t_pass)
    for name, build in (
        ("trace_conv2d", lambda: engine.trace_conv2d(x, w, padding=1)),
        ("trace_conv2d_backward", lambda: engine.trace_conv2d_backward(x, w, dy, padding=1)),
    ):
        peak = peak_memory(build, rng)
        table.add(f"{name} memory peak (create + steps)", f"{peak / x.nbytes:.2f}x",
                  f"x {x.nbytes >> 10} KiB", goal="< 10x x.nbytes", ok=peak < 10 * x.nbytes)

    if not args.no_largest:
        largest_steps(engine, table)

    print()
    table.print()
    return 0


def largest_steps(engine: Any, table: Table, steps: int = 10) -> None:
    """Rows for one step of the traces from mid-trace at the largest lesson setting.

    ``x (16, 512, 512)``, ``w (16, 16, 15, 15)``, no padding: the median of
    ``steps`` calls of ``partial(mid + k)`` after ``partial(mid)`` (the first
    call, which computes the prefix, is not timed), then ``steps`` steps back.
    The reference column is what one backward step used to cost: the
    gradients of the whole ``dy`` prefix recomputed in one vectorised pass.
    """
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((16, 512, 512)), rng.standard_normal((16, 16, 15, 15))
    fwd = engine.trace_conv2d(x, w)
    bwd = engine.trace_conv2d_backward(x, w, rng.standard_normal(fwd.out_shape))
    mid = len(bwd) // 2

    def median_step(tr: Any, ks: range) -> float:
        times = []
        for k in ks:
            t0 = time.perf_counter()
            tr.partial(mid + k)
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    fwd.partial(mid)
    t_f = median_step(fwd, range(1, steps + 1))
    t0 = time.perf_counter()
    engine.conv.backward_padded(bwd.setup, bwd._dy_prefix(mid + 1), bwd.x_padded)
    t_old = time.perf_counter() - t0
    bwd.partial(mid)
    t_b = median_step(bwd, range(1, steps + 1))
    t_back = median_step(bwd, range(steps - 1, -1, -1))
    where = "16x512x512, 16->16, 15x15"
    table.add(f"ConvTrace.partial, a step mid-trace ({where})", ms(t_f), goal="info")
    for what, t in (("a step forward", t_b), ("a step back", t_back)):
        table.add(f"ConvBackwardTrace.partial, {what} mid-trace", ms(t), f"was {ms(t_old)}", t / t_f,
                  "<= 2x forward step", t <= 2 * t_f)


if __name__ == "__main__":
    sys.exit(main())
