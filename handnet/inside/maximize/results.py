"""A maximizer's result, and writing results to ``.npz``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from handnet.atomic import atomic_path


@dataclass(frozen=True)
class Maximizer:
    """The best image found for one unit, and how it was found.

    ``image`` is ``(784,)`` float in [0, 1]. ``activation`` and ``preactivation`` are the unit's
    values on it (without penalties). ``bound`` is an upper bound on the objective (pre-activation
    or, for ``objective="activation"``, the activation) over all allowed images, and
    ``activation_bound`` one on the activation; ``lower`` is the matching lower bound, so ``gap``
    can say how far below the bound the result is as a fraction of ``[lower, bound]``.
    """

    unit: str
    image: np.ndarray
    activation: float
    preactivation: float
    objective: str
    method: str
    bound: float | None
    lower: float | None
    seconds: float
    constraint: str = "box"
    restarts: int = 0
    seed: int | None = None
    penalties: dict = field(default_factory=dict)
    activation_bound: float | None = None

    @property
    def value(self) -> float:
        """The objective's value: the pre-activation, or the activation."""
        return self.preactivation if self.objective == "preactivation" else self.activation

    @property
    def exact(self) -> bool:
        return self.method.startswith("closed form")

    @property
    def gap(self) -> float | None:
        """How far below the bound the result is, as a fraction of the bound interval (0 = at it)."""
        if self.bound is None or self.lower is None:
            return None
        span = self.bound - self.lower
        return 0.0 if span <= 0 else max(0.0, (self.bound - self.value) / span)

    def to_dict(self) -> dict:
        """JSON-ready summary (without the image)."""
        return {
            "unit": self.unit,
            "activation": self.activation,
            "preactivation": self.preactivation,
            "objective": self.objective,
            "value": self.value,
            "bound": self.bound,
            "activation_bound": self.activation_bound,
            "gap": self.gap,
            "method": self.method,
            "constraint": self.constraint,
            "restarts": self.restarts,
            "seed": self.seed,
            "penalties": self.penalties,
            "seconds": self.seconds,
        }


def save_maximizers(path, results: list[Maximizer]):
    """Write results to ``.npz``: ``images (n, 784)``, ``activations``, ``preactivations``,
    ``objectives``, ``bounds`` and ``activation_bounds`` and ``gaps`` (NaN where none), ``seconds``,
    ``units`` and ``methods`` (strings). No pickles: ``np.load(path)`` reads it back."""
    arrays = {
        "units": np.array([r.unit for r in results]),
        "images": np.stack([r.image for r in results]) if results else np.zeros((0, 784)),
        "activations": np.array([r.activation for r in results]),
        "preactivations": np.array([r.preactivation for r in results]),
        "objectives": np.array([r.objective for r in results]),
        "bounds": np.array([np.nan if r.bound is None else r.bound for r in results]),
        "activation_bounds": np.array([np.nan if r.activation_bound is None else r.activation_bound for r in results]),
        "gaps": np.array([np.nan if r.gap is None else r.gap for r in results]),
        "seconds": np.array([r.seconds for r in results]),
        "methods": np.array([r.method for r in results]),
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return path
