"""Where the pipeline view puts its stages: rows of titled columns, maps tiled to fill their box.

Plain arithmetic on sizes in pixels (no Qt): ``PipelineView`` measures its
titles and boxes and asks here which stages share a row, how many columns a
stage's maps are tiled in, and how much room a classifier's labels take.
"""

from __future__ import annotations

import itertools

#: Pixels between two stages' titles, so neighbouring titles never touch.
TITLE_GAP = 14.0
#: Narrowest column a stage of maps (or of bars) is given, in pixels.
MIN_MAP_WIDTH, MIN_VECTOR_WIDTH = 110.0, 90.0


def wrap_rows(widths: list[float], available: float) -> list[list[int]]:
    """Split stages (in order) into the fewest rows whose widths fit ``available`` pixels.

    Parameters
    ----------
    widths : list of float, length S
        The narrowest each stage may be (its title's width plus ``TITLE_GAP``).
    available : float
        The width of the view.

    Returns
    -------
    list of list of int
        Stage indices per row, contiguous and in order; among the splits into
        that many rows, the one whose widest row is narrowest (balanced rows).
        A stage wider than the view alone gets a row of its own.
    """
    n = len(widths)
    if n == 0:
        return []
    for k in range(1, n + 1):
        best = _balanced(widths, k)
        if max(sum(widths[i] for i in row) for row in best) <= available or k == n:
            return best
    return [list(range(n))]  # pragma: no cover - the loop returns at k == n


def _balanced(widths: list[float], k: int) -> list[list[int]]:
    """``k`` contiguous rows of ``widths`` minimising the widest row's total (exhaustive over cuts; the
    first such split in ``itertools.combinations`` order)."""
    n = len(widths)
    ends = list(itertools.accumulate(widths, initial=0.0))  # ends[b] - ends[a]: the row a..b-1
    best: tuple[float, tuple[int, ...]] | None = None
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        worst = max(ends[b] - ends[a] for a, b in itertools.pairwise(bounds))
        if best is None or worst < best[0]:
            best = (worst, bounds)
    assert best is not None
    return [list(range(a, b)) for a, b in itertools.pairwise(best[1])]


def best_columns(n: int, h: int, w: int, box_w: float, box_h: float) -> int:
    """How many columns ``n`` maps of ``h``×``w`` cells tile into to be largest in a ``box_w``×``box_h`` box.

    Maps are laid out with one empty cell between them (as ``tile_origins`` does).
    """
    if n <= 1 or box_w <= 0 or box_h <= 0:
        return 1

    def scale(cols: int) -> float:
        rows = -(-n // cols)
        return min(box_w / (cols * (w + 1) - 1), box_h / (rows * (h + 1) - 1))

    return max(range(1, n + 1), key=lambda c: (scale(c), -c))


def tile_origins(n: int, cols: int, h: int, w: int) -> list[tuple[float, float, int, int]]:
    """Top-left corners ``(x0, y0, h, w)`` of ``n`` maps in ``cols`` columns, one empty cell between."""
    return [((m % cols) * (w + 1.0), (m // cols) * (h + 1.0), h, w) for m in range(n)]


def classifier_range(lo: float, hi: float, box_px: float, left_px: float, right_px: float
                     ) -> tuple[float, float]:
    """The x range that shows bars from ``lo`` to ``hi`` with room for the digit and value labels.

    ``box_px`` is the box's width in pixels; ``left_px`` pixels stay free left
    of the bars (the class digits) and ``right_px`` right of them (the values).
    """
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = hi - lo if hi - lo > 1e-12 else 1.0
    bars_px = max(box_px - left_px - right_px, 0.25 * box_px, 1.0)
    unit = span / bars_px  # value per pixel
    return lo - left_px * unit, hi + right_px * unit


def label_pixels(pitch_px: float, largest: int = 17, smallest: int = 8) -> int:
    """Pixel size of a font whose lines fit ``pitch_px`` apart (at most ``largest``); 0: too tight to show."""
    size = min(largest, int(pitch_px * 0.8))
    return size if size >= smallest else 0
