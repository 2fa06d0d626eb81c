"""One pipeline change in two halves: checked on the UI thread, computed anywhere, applied on the UI thread.

``PipelineState`` checks a change (shapes, limits: cheap) and makes a
``PipelineJob``; ``PipelineJob.run`` picks the weights (trained or drawn) and runs the forward
pass (the expensive part) and reads nothing of the state, so it may run in a
worker thread, where the engine's checkpoints let a ``StopToken`` stop it;
``PipelineState.finish`` applies its ``PipelineResult`` unless a newer change
or a cancel made it stale. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import network as nw

from .weights import WeightsKind, weights_for

__all__ = ["PipelineJob", "PipelineResult", "forward_cost"]


def forward_cost(net: nw.Network) -> int:
    """About how many multiply-adds (or compares) a forward pass of ``net`` takes.

    Parameters
    ----------
    net : engine.network.Network
        Every layer must take its input (``net.check()`` is None).

    Returns
    -------
    int
        Per conv layer ``outputs · C_in/groups · kh · kw``, per pool ``outputs · kh · kw``,
        per dense layer its weights; other layers one per value.
    """
    shapes = net.shapes()
    total = 0
    for k, layer in enumerate(net.layers):
        n_in, n_out = int(np.prod(shapes[k])), int(np.prod(shapes[k + 1]))
        if isinstance(layer, (nw.Conv, nw.Pool)):
            kh, kw = (layer.kernel, layer.kernel) if isinstance(layer.kernel, int) else layer.kernel
            total += n_out * kh * kw * (shapes[k][0] // layer.groups if isinstance(layer, nw.Conv) else 1)
        elif isinstance(layer, nw.Dense):
            total += n_in * n_out
        else:
            total += n_in
    return total


@dataclass(frozen=True, eq=False)
class PipelineJob:
    """A checked change of a pipeline, not computed yet.

    Attributes
    ----------
    network : engine.network.Network
        The stack as changed (it may hold an impossible layer: ``problem``).
    x : ndarray, shape network.input_shape
    seed : int
    kind : {"trained", "random"}
        The weights asked for (``gui.models.weights.weights_for``).
    problem : engine.network.LayerError or None
    computed : engine.network.Network
        The layers before ``problem``: those the forward pass runs.
    cost : int
        ``forward_cost(computed)``.
    reuse : tuple or None
        ``(weights, n_trained)`` to keep (only the input changed), or None to pick them.
    """

    network: nw.Network
    x: np.ndarray
    seed: int
    kind: WeightsKind
    problem: nw.LayerError | None
    computed: nw.Network
    cost: int
    reuse: tuple[list[tuple[np.ndarray, np.ndarray] | None], int] | None = None

    def run(self) -> PipelineResult:
        """Pick the weights and run the forward pass (any thread: reads nothing of the state).

        Raises
        ------
        engine.cancel.Cancelled
            When the enclosing ``StopToken`` was cancelled.
        """
        try:
            weights, n_trained = self.reuse or weights_for(self.computed, self.seed, self.kind)
            outputs = self.computed.forward(self.x, weights)
        except (ValueError, TypeError) as exc:
            return PipelineResult(self, [], [], 0, str(exc))
        return PipelineResult(self, weights, outputs, n_trained)


@dataclass(frozen=True, eq=False)
class PipelineResult:
    """What ``PipelineJob.run`` computed, for ``PipelineState.finish``.

    Attributes
    ----------
    job : PipelineJob
    weights : list
        Per computed layer ``(w, b)`` or None (``Network.init_weights``).
    outputs : list of ndarray
        Stage 0 the input, stage ``k + 1`` layer ``k``'s output.
    n_trained : int
        How many leading layers carry trained weights.
    refused : str
        Why the change cannot be applied (plain words), or empty.
    """

    job: PipelineJob
    weights: list[tuple[np.ndarray, np.ndarray] | None]
    outputs: list[np.ndarray]
    n_trained: int = 0
    refused: str = ""
