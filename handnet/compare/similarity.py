"""How alike two networks' layers are: linear CKA between layers, and unit-by-unit matching.

Both work on any two networks with the same input, whatever their unit names: CKA compares the
geometry of two layers' activations over the same images; matching pairs each unit of one layer
with one unit of the other by the Hungarian assignment, on activation correlation (do they fire
on the same images?) or on weight-template cosine (do they look for the same pixels?).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handnet.nn.network import Network
from handnet.inside.effective import effective_templates


def linear_cka(X, Y) -> float:
    """Linear centered kernel alignment of two activation matrices over the same images.

    ``X`` (n_images, p) and ``Y`` (n_images, q) floats. Returns a number in [0, 1]: 1 when ``Y`` is
    an orthogonal transform of ``X`` times a scalar (plus a shift), near 0 for unrelated layers.
    Kornblith et al. 2019: ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)``.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"CKA needs two (n_images, units) arrays over the same images, got {X.shape} and {Y.shape}")
    Xc = X - X.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    cross = np.linalg.norm(Yc.T @ Xc) ** 2
    norms = np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc)
    return float(cross / norms) if norms > 0 else 0.0


def cka_matrix(acts_a: list, acts_b: list) -> np.ndarray:
    """Linear CKA between every layer of one list and every layer of the other: ``(len(a), len(b))``."""
    return np.array([[linear_cka(x, y) for y in acts_b] for x in acts_a])


def correlation_matrix(A, B) -> np.ndarray:
    """Pearson correlation of every column of ``A`` (n, p) with every column of ``B`` (n, q): ``(p, q)``.

    A column that never varies (a dead or saturated unit) correlates 0 with everything.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    Ac, Bc = A - A.mean(axis=0), B - B.mean(axis=0)
    na, nb = np.linalg.norm(Ac, axis=0), np.linalg.norm(Bc, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (Ac.T @ Bc) / np.outer(na, nb)
    return np.nan_to_num(np.clip(corr, -1.0, 1.0))


def cosine_matrix(A, B) -> np.ndarray:
    """Cosine similarity of every row of ``A`` (p, d) with every row of ``B`` (q, d): ``(p, q)``."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (A @ B.T) / np.outer(na, nb)
    return np.nan_to_num(np.clip(cos, -1.0, 1.0))


@dataclass(frozen=True)
class Matching:
    """One layer of A matched to one layer of B, unit by unit.

    ``pairs[i] = (unit of A, unit of B, score)``; ``scores`` is the full ``(units A, units B)``
    similarity matrix; ``permutation[i]`` is the index in B matched with A's unit ``i`` (-1 when
    B has fewer units).
    """

    criterion: str
    layer_a: str
    layer_b: str
    scores: np.ndarray
    permutation: np.ndarray
    pairs: list

    @property
    def mean_score(self) -> float:
        matched = [s for _, _, s in self.pairs]
        return float(np.mean(matched)) if matched else float("nan")

    def to_dict(self) -> dict:
        return {
            "criterion": self.criterion,
            "layer_a": self.layer_a,
            "layer_b": self.layer_b,
            "mean_score": self.mean_score,
            "pairs": [{"a": a, "b": b, "score": s} for a, b, s in self.pairs],
        }


def hungarian(scores: np.ndarray) -> np.ndarray:
    """The assignment that maximizes the total score: ``permutation[i]`` = column matched with row i (-1 if none)."""
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.asarray(scores), maximize=True)
    permutation = np.full(scores.shape[0], -1, dtype=np.int64)
    permutation[rows] = cols
    return permutation


def match_units(net_a: Network, net_b: Network, layer, criterion: str = "activation", X=None, acts=None) -> Matching:
    """Pair each unit of ``layer`` in A with one unit of the same-position layer in B.

    ``layer`` is a layer name, alias (``hidden1``) or index, resolved in each net. ``criterion``:
    ``"activation"`` (Pearson correlation of activations over images ``X`` (n, 784), required) or
    ``"weights"`` (cosine of the units' pixel templates, see ``inside.effective.effective_templates``).
    ``acts``: ``(net_a.forward(X), net_b.forward(X))``, when already computed.
    """
    li_a = layer if isinstance(layer, int) else net_a.layer_index(layer)
    li_b = layer if isinstance(layer, int) else net_b.layer_index(layer)
    if criterion == "activation":
        if X is None:
            raise ValueError("matching on activation correlation needs images X")
        acts_a, acts_b = acts if acts is not None else (net_a.forward(X), net_b.forward(X))
        scores = correlation_matrix(acts_a[li_a + 1], acts_b[li_b + 1])
    elif criterion == "weights":
        scores = cosine_matrix(effective_templates(net_a, li_a), effective_templates(net_b, li_b))
    else:
        raise ValueError(f"criterion {criterion!r} is not 'activation' or 'weights'")
    permutation = hungarian(scores)
    units_a, units_b = net_a.layers[li_a].units, net_b.layers[li_b].units
    pairs = [
        (f"{net_a.layers[li_a].name}:{units_a[i]}", f"{net_b.layers[li_b].name}:{units_b[j]}", float(scores[i, j]))
        for i, j in enumerate(permutation)
        if j >= 0
    ]
    return Matching(criterion, net_a.layers[li_a].name, net_b.layers[li_b].name, scores, permutation, pairs)
