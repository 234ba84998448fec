"""Activation maximization: the input image that makes one unit fire hardest.

The image lives in the box [0, 1]^784 (pixel brightness, as the lesson's input neurons).

* A first-hidden-layer unit computes ``act(w . x + b)`` with a monotone ``act``, so its best image
  is exact: ``x_i = 1`` where ``w_i > 0``, else 0 (box), or ``x = max(w, 0) / ||max(w, 0)||``
  under the optional unit-L2-norm constraint ``||x|| <= 1`` (with ``x >= 0``; every coordinate of
  that point is <= 1, so it also lies in the box). With an L2 penalty ``lam * ||x||^2`` the box
  optimum is still closed form: ``x_i = clip(w_i / (2 lam), 0, 1)``.
* A deeper unit is maximized numerically, with the exact input gradient from ``input_gradient``
  below. First a cheap batched screen: projected gradient ascent from seeded starts (the box
  corners that the gradient at mid-grey, the unit's linear pixel template, and the templates of
  the four units below it with the largest positive weights point to, then uniform random
  images), each run twice, once on the real network and once annealed
  from sigmoids flattened 4-fold (a smoother landscape that helps past saturated plateaus). Then
  bounded L-BFGS-B (``scipy.optimize.minimize``) polishes the best ``restarts`` of those, and a
  last step moves every pixel to the bound its gradient points to while that helps. Optional L2
  and total-variation penalties, and blur (the image is a Gaussian blur of the optimized
  variables, which keeps it in the box). Under the unit-L2 constraint the screen's projected
  gradient (onto the box and the ball) is the method.
* An upper bound comes from interval bound propagation: each unit's pre-activation over the
  whole input box is bounded layer by layer by ``b + sum_j max(w_j lo_j, w_j hi_j)``, where
  ``[lo_j, hi_j]`` bounds unit ``j`` below. For a first-layer unit the bound is exact; for a
  second-layer unit it is reached exactly when the best images of the units it reads are
  compatible. ``Maximizer.gap`` says how far below the bound a result is, as a fraction of the
  unit's whole interval ``[z_lo, z_hi]``.

What is maximized: the unit's pre-activation ``z`` (objective ``"preactivation"``, the default).
For sigmoid and ReLU units this has the same best image as the activation (the activation is
monotone in ``z``), and it does not saturate, so the optimizer keeps a useful gradient. For the
softmax output units ``z`` is the digit's logit: the evidence for that digit alone. Objective
``"activation"`` maximizes the softmax probability instead, which can also be raised by
suppressing the other nine digits; it is offered, but the logit says what the unit looks for.
"""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import HandnetError
from .network import Network, UnitRef, activate

OBJECTIVES = ("preactivation", "activation")
CONSTRAINTS = ("box", "l2")
ANNEAL_FROM = 4.0  # the temperature annealed screening runs start at


def one_blas_thread():
    """Run BLAS single-threaded: the matrices here are tiny, and threads only fight over the cores.

    Uses threadpoolctl (installed with scikit-learn) when it is there; otherwise does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _single_threaded(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper


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


# ---- the network's values and input gradient ---------------------------------------------------
def _activation_derivative(layer, z, a, g):
    """Back through one activation: ``dL/dz`` from ``g = dL/da``; all ``(n, units)``."""
    if layer.activation == "sigmoid":
        return g * a * (1.0 - a)
    if layer.activation == "relu":
        return g * (z > 0)
    # softmax: J = diag(a) - a a^T, symmetric
    return a * (g - np.sum(g * a, axis=1, keepdims=True))


def unit_values(net: Network, ref, X):
    """The unit's pre-activation and activation for each image: two ``(n,)`` arrays."""
    ref = net.unit(ref)
    acts, zs = net.forward(np.asarray(X, dtype=float).reshape(-1, net.sizes[0]), preactivations=True)
    return zs[ref.layer][:, ref.index], acts[ref.activation_index][:, ref.index]


def input_gradient(net: Network, ref, X, objective: str = "preactivation"):
    """The objective for each image and its gradient with respect to the pixels.

    ``X`` is ``(n, 784)`` float; returns ``(values (n,), gradients (n, 784))``, computed by one
    backward pass from the chosen unit's pre-activation (or activation) down to the input.
    """
    return _Gradient(net, net.unit(ref), objective)(np.asarray(X, dtype=float).reshape(-1, net.sizes[0]))


class _Gradient:
    """The objective and its input gradient for one unit, with the layers below it held as plain
    float64 arrays (the optimizer calls this thousands of times, so it skips all checking)."""

    def __init__(self, net: Network, ref: UnitRef, objective: str, log_probability: bool = False):
        if objective not in OBJECTIVES:
            raise HandnetError(f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
        self.layers = net.layers[: ref.layer + 1]
        self.weights = [np.asarray(layer.weights, dtype=float) for layer in self.layers]
        self.weights_t = [w.T.copy() for w in self.weights]
        self.biases = [np.asarray(layer.biases, dtype=float) for layer in self.layers]
        self.index, self.objective = ref.index, objective
        # > 1 flattens the sigmoids below the unit (a smoother landscape); 1 is the real network
        self.temperature = 1.0
        # a softmax probability saturates; its logarithm has the same maximizer and a steady gradient
        self.log_probability = log_probability and objective == "activation" and self.layers[-1].activation == "softmax"

    def __call__(self, X):
        a, acts, zs = X, [X], []
        last = len(self.layers) - 1
        flatten = bool(np.any(np.asarray(self.temperature) != 1.0))
        for li, (layer, wt, b) in enumerate(zip(self.layers, self.weights_t, self.biases)):
            z = a @ wt + b
            if li < last and flatten:
                z = z / self.temperature
            # tanh form of the logistic: one ufunc, no overflow (this runs thousands of times)
            a = 0.5 + 0.5 * np.tanh(0.5 * z) if layer.activation == "sigmoid" else activate(z, layer.activation)
            zs.append(z)
            acts.append(a)
        top, n = self.layers[-1], X.shape[0]
        if self.objective == "preactivation":
            values = zs[-1][:, self.index]
            # only one unit's z matters: start the backward pass at its weight row
            g = np.broadcast_to(self.weights[-1][self.index], (n, top.n_in))
            first = len(self.layers) - 2
        elif self.log_probability:
            p = acts[-1]
            values = np.log(np.maximum(p[:, self.index], 1e-300))
            dz = -p
            dz[:, self.index] += 1.0
            g = dz @ self.weights[-1]
            first = len(self.layers) - 2
        else:
            values = acts[-1][:, self.index]
            g = np.zeros((n, top.n_out))
            g[:, self.index] = 1.0
            first = len(self.layers) - 1
        for li in range(first, -1, -1):
            dz = _activation_derivative(self.layers[li], zs[li], acts[li + 1], g)
            if li < last and flatten:
                dz = dz / self.temperature
            g = dz @ self.weights[li]
        return values, np.array(g, dtype=float)


# ---- bounds ------------------------------------------------------------------------------------
def interval_bounds(net: Network, constraint: str = "box"):
    """Bounds on every layer's pre-activations over all allowed images.

    Returns a list of ``(z_lo, z_hi)`` pairs, one per layer, each ``(units,)``. The first layer's
    bounds are exact (each is reached by its closed-form image); deeper ones come from interval
    bound propagation and are reached only when the units below can peak together.
    """
    bounds = []
    lo = hi = None
    for li, layer in enumerate(net.layers):
        W, b = layer.weights.astype(float), layer.biases.astype(float)
        if li == 0:
            Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
            if constraint == "l2":
                z_hi = b + np.linalg.norm(Wp, axis=1)
                z_lo = b - np.linalg.norm(Wn, axis=1)
            else:
                z_hi = b + Wp.sum(axis=1)
                z_lo = b + Wn.sum(axis=1)
        else:
            Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
            z_hi = b + Wp @ hi + Wn @ lo
            z_lo = b + Wp @ lo + Wn @ hi
        bounds.append((z_lo, z_hi))
        if layer.activation == "softmax":
            # each probability lies between its worst and best case against the others
            lo, hi = _softmax_bounds(z_lo, z_hi)
        else:
            lo, hi = activate(z_lo, layer.activation), activate(z_hi, layer.activation)
    return bounds


def _softmax_bounds(z_lo, z_hi):
    n = len(z_lo)
    lo, hi = np.empty(n), np.empty(n)
    for k in range(n):
        others = np.arange(n) != k
        hi[k] = 1.0 / (1.0 + np.sum(np.exp(z_lo[others] - z_hi[k])))
        lo[k] = 1.0 / (1.0 + np.sum(np.exp(z_hi[others] - z_lo[k])))
    return lo, hi


def objective_bounds(net: Network, ref, objective: str = "preactivation", constraint: str = "box"):
    """``(lower, upper)`` bounds on the unit's objective over all allowed images."""
    ref = net.unit(ref)
    bounds = interval_bounds(net, constraint)
    z_lo, z_hi = bounds[ref.layer]
    if objective == "preactivation":
        return float(z_lo[ref.index]), float(z_hi[ref.index])
    layer = net.layers[ref.layer]
    if layer.activation == "softmax":
        lo, hi = _softmax_bounds(z_lo, z_hi)
        return float(lo[ref.index]), float(hi[ref.index])
    lo = activate(z_lo[[ref.index]], layer.activation)[0]
    hi = activate(z_hi[[ref.index]], layer.activation)[0]
    return float(lo), float(hi)


# ---- the first layer: closed forms -------------------------------------------------------------
def closed_form(weights, constraint: str = "box", l2: float = 0.0) -> np.ndarray:
    """The image in [0, 1]^n maximizing ``weights . x`` (minus ``l2 * ||x||^2``): ``(n,)`` float.

    Box: 1 where the weight is positive. Box with L2 penalty: ``clip(w / (2 l2), 0, 1)``.
    Unit L2 norm: ``max(w, 0) / ||max(w, 0)||`` (all zeros when no weight is positive).
    """
    w = np.asarray(weights, dtype=float)
    if constraint == "l2":
        wp = np.maximum(w, 0)
        norm = np.linalg.norm(wp)
        return wp / norm if norm > 0 else np.zeros_like(w)
    if l2 > 0:
        return np.clip(w / (2.0 * l2), 0.0, 1.0)
    return (w > 0).astype(float)


# ---- deeper units: numerical optimization ------------------------------------------------------
def _blur_operator(sigma: float, shape):
    """The Gaussian blur as a linear map on flat images, and its transpose (itself: the zero-padded
    symmetric kernel gives a symmetric matrix)."""
    if not sigma:
        return None
    from scipy.ndimage import gaussian_filter

    def blur(v):
        v = np.asarray(v, dtype=float)
        flat = v.reshape(-1, *shape)
        out = np.stack([gaussian_filter(img, sigma, mode="constant") for img in flat])
        return out.reshape(v.shape)

    return blur


def _tv(x, shape, eps=1e-3):
    """Smoothed total variation of flat images ``(n, 784)``, and its gradient."""
    img = x.reshape(-1, *shape)
    dr = np.diff(img, axis=1)
    dc = np.diff(img, axis=2)
    sr, sc = np.sqrt(dr**2 + eps**2), np.sqrt(dc**2 + eps**2)
    value = sr.sum(axis=(1, 2)) + sc.sum(axis=(1, 2))
    g = np.zeros_like(img)
    gr, gc = dr / sr, dc / sc
    g[:, 1:, :] += gr
    g[:, :-1, :] -= gr
    g[:, :, 1:] += gc
    g[:, :, :-1] -= gc
    return value, g.reshape(x.shape)


class _Problem:
    """The penalized objective over the optimized variables ``p`` (the image is ``blur(p)``)."""

    def __init__(self, net, ref, objective, l2, tv, blur):
        self.gradient = _Gradient(net, ref, objective, log_probability=True)
        self.l2, self.tv = float(l2), float(tv)
        self.shape = net.input_shape
        self.blur = _blur_operator(blur, self.shape)

    def image(self, p):
        return self.blur(p) if self.blur else p

    def value_and_grad(self, P):
        """Penalized objective and gradient for a batch ``P`` (n, 784)."""
        X = self.image(P)
        values, grads = self.gradient(X)
        if self.l2:
            values = values - self.l2 * np.sum(X**2, axis=1)
            grads = grads - 2.0 * self.l2 * X
        if self.tv:
            tv, tv_grad = _tv(X, self.shape)
            values = values - self.tv * tv
            grads = grads - self.tv * tv_grad
        if self.blur:
            grads = self.blur(grads)
        return values, grads


def _lbfgsb(problem, start, maxiter):
    from scipy.optimize import Bounds, minimize

    def negative(p):
        v, g = problem.value_and_grad(p[None, :])
        return -float(v[0]), -g[0]

    res = minimize(
        negative,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=Bounds(np.zeros(start.size), np.ones(start.size)),
        options={"maxiter": maxiter, "ftol": 1e-14, "gtol": 1e-12},
    )
    return np.clip(res.x, 0.0, 1.0), -float(res.fun), int(res.nit)


def _project_l2(P):
    """Projection onto {x >= 0, ||x|| <= 1} (a cone meets a ball: clip, then shrink)."""
    P = np.maximum(P, 0.0)
    norms = np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1.0)
    return P / norms


def projected_gradient(problem, starts, steps: int = 200, lr: float = 0.05, constraint: str = "box",
                       temperatures=None):
    """Projected gradient ascent from every row of ``starts`` at once.

    Each step moves along the gradient scaled to unit RMS (so it crosses the flat plateaus of
    saturated sigmoids at a steady pace), with a step size that decays from ``lr`` to ``lr / 100``,
    then projects back onto the allowed set. ``temperatures`` (one per row, default all 1) anneal
    geometrically to 1: a run starting at 4 sees the sigmoids below the unit flattened 4-fold at
    first, a smoother landscape, and the real network by the end. Returns the best
    ``(variables (n, 784), penalized values (n,))`` of the real network seen along each run.
    """
    project = _project_l2 if constraint == "l2" else (lambda P: np.clip(P, 0.0, 1.0))
    P = project(np.array(starts, dtype=float))
    best, best_values = P.copy(), np.full(len(P), -np.inf)
    t0 = None if temperatures is None else np.asarray(temperatures, dtype=float)[:, None]
    annealing = t0 is not None and np.any(t0 != 1.0)
    for t in range(steps + 1):
        done = t / max(steps - 1, 1)
        if annealing:
            problem.gradient.temperature = t0 ** max(0.0, 1.0 - done)
        v, g = problem.value_and_grad(P)
        if annealing:
            # only the real network's values count as results
            problem.gradient.temperature = 1.0
            v = problem.value_and_grad(P)[0] if t == steps or t % 10 == 0 else np.full(len(P), -np.inf)
        better = v > best_values
        best[better], best_values[better] = P[better], v[better]
        if t == steps:
            break
        rms = np.sqrt(np.mean(g**2, axis=1, keepdims=True)) + 1e-12
        P = project(P + lr * (0.01 ** min(done, 1.0)) * g / rms)
    problem.gradient.temperature = 1.0
    return best, best_values


def _push_to_corners(problem, p, rounds: int = 20):
    """Move every variable to the bound its gradient points to, while that helps.

    The optimum of a saturating sigmoid net often sits at a corner of the box, where the gradient
    is too small for L-BFGS-B's tolerances but still has the right sign.
    """
    value, grad = problem.value_and_grad(p[None])
    for _ in range(rounds):
        g = grad[0]
        candidate = np.where(g > 0, 1.0, np.where(g < 0, 0.0, p))
        v, grad_c = problem.value_and_grad(candidate[None])
        if not v[0] > value[0]:
            break
        p, value, grad = candidate, v, grad_c
    return p


@_single_threaded
def random_start_baseline(net, ref, n_starts=100, seed=0, steps=200, objective="preactivation", constraint="box"):
    """The best objective value of ``n_starts`` projected-gradient runs from uniform random images.

    The yardstick a maximizer should match or beat: returns ``(image (784,), value)``.
    """
    ref = net.unit(ref)
    problem = _Problem(net, ref, objective, 0.0, 0.0, 0.0)
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0.0, 1.0, size=(n_starts, net.sizes[0]))
    if constraint == "l2":
        starts = _project_l2(starts)
    best, values = projected_gradient(problem, starts, steps=steps, constraint=constraint)
    i = int(np.argmax(values))
    return best[i], float(values[i])


def _starts(problem, n, seed, size, corners=()):
    """Seeded starting points: the box corner the gradient at mid-grey points to, the given
    ``corners``, then uniform random images; ``n`` in all."""
    _, g = problem.value_and_grad(np.full((1, size), 0.5))
    starts = [(g[0] > 0).astype(float)] + [np.asarray(c, dtype=float) for c in corners]
    rng = np.random.default_rng(seed)
    while len(starts) < n:
        starts.append(rng.uniform(0.0, 1.0, size))
    return starts[:n]


def _template_corners(net: Network, ref: UnitRef, n_below: int = 4) -> list:
    """Box corners worth starting from: where the unit's linear pixel template is positive, and
    where each of the ``n_below`` units below it with the largest positive weights has its
    template positive (for a first-layer unit below, that is its exact best image)."""
    from .weights import effective_templates

    corners = [(effective_templates(net, ref.layer)[ref.index] > 0).astype(float)]
    if ref.layer > 0:
        weights = net.layers[ref.layer].weights[ref.index]
        below = effective_templates(net, ref.layer - 1)
        for j in np.argsort(-weights, kind="stable")[:n_below]:
            if weights[j] > 0:
                corners.append((below[j] > 0).astype(float))
    return corners


@_single_threaded
def maximize(
    net: Network,
    ref,
    *,
    objective: str = "preactivation",
    constraint: str = "box",
    restarts: int = 2,
    screen: int = 28,
    screen_steps: int = 200,
    seed: int = 0,
    l2: float = 0.0,
    tv: float = 0.0,
    blur: float = 0.0,
    maxiter: int = 200,
) -> Maximizer:
    """The image in [0, 1]^784 that maximizes one unit (see the module docstring for the method).

    ``ref`` is a unit reference such as ``"edges:upper_bar"``, ``"hidden2:7"`` or ``"digits:3"``.
    """
    started = time.perf_counter()
    ref = net.unit(ref)
    if objective not in OBJECTIVES:
        raise HandnetError(f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    if constraint not in CONSTRAINTS:
        raise HandnetError(f"constraint {constraint!r} is not one of {', '.join(CONSTRAINTS)}")
    if restarts < 1:
        raise HandnetError(f"restarts must be at least 1, got {restarts}")
    for name, value in (("l2", l2), ("tv", tv), ("blur", blur)):
        if value < 0:
            raise HandnetError(f"{name} must be >= 0, got {value}")
    size = net.sizes[0]
    layer = net.layers[ref.layer]
    # a first-layer unit's objective is monotone in w . x unless it is a softmax probability
    linear = ref.layer == 0 and (objective == "preactivation" or layer.activation != "softmax")
    penalties = {k: v for k, v in (("l2", l2), ("tv", tv), ("blur", blur)) if v}
    if linear and not tv and not blur and not (l2 and constraint == "l2"):
        image = closed_form(layer.weights[ref.index], constraint, l2)
        method = "closed form (" + ("unit L2 ball" if constraint == "l2" else "box") + (", L2 penalty)" if l2 else ")")
        n_restarts = 0
    else:
        problem = _Problem(net, ref, objective, l2, tv, blur)
        # a cheap batched screen from many seeded starts finds the best basin; L-BFGS-B polishes
        starts = _starts(problem, max(screen, restarts), seed, size, _template_corners(net, ref))
        # every start runs twice: on the real network, and annealed from flattened sigmoids
        screened, values = projected_gradient(
            problem,
            starts + starts,
            steps=screen_steps,
            constraint=constraint,
            temperatures=[1.0] * len(starts) + [ANNEAL_FROM] * len(starts),
        )
        order = np.argsort(-values, kind="stable")[:restarts]
        if constraint == "l2":
            image = problem.image(screened[order[0]])
            method = f"projected gradient on the unit L2 ball, best of {2 * len(starts)} seeded runs"
        else:
            results = [_lbfgsb(problem, screened[i], maxiter) for i in order]
            best = _push_to_corners(problem, results[int(np.argmax([r[1] for r in results]))][0])
            image = problem.image(best)
            method = f"L-BFGS-B from the best {restarts} of {2 * len(starts)} seeded screening runs"
        n_restarts = restarts
    image = np.clip(image, 0.0, 1.0)
    z, a = unit_values(net, ref, image[None])
    lower, bound = objective_bounds(net, ref, objective, constraint)
    activation_bound = objective_bounds(net, ref, "activation", constraint)[1]
    return Maximizer(
        unit=str(ref),
        image=image,
        activation=float(a[0]),
        preactivation=float(z[0]),
        objective=objective,
        method=method,
        bound=bound,
        lower=lower,
        seconds=time.perf_counter() - started,
        constraint=constraint,
        restarts=n_restarts,
        seed=seed if n_restarts else None,
        penalties=penalties,
        activation_bound=activation_bound,
    )


def maximize_units(net: Network, refs=None, progress=None, **options) -> list[Maximizer]:
    """``maximize`` for several units (default: every unit of every layer)."""
    refs = [net.unit(r) for r in refs] if refs is not None else net.units()
    results = []
    with one_blas_thread():
        for ref in refs:
            results.append(maximize(net, ref, **options))
            if progress is not None:
                progress(1)
    return results


def top_activating(net: Network, ref, X, k: int = 8):
    """The ``k`` images of ``X`` ``(n, 784)`` that most activate the unit: ``(indices (k,), activations (k,))``,
    highest first (ties broken by index)."""
    _, a = unit_values(net, ref, net.as_inputs(X))
    order = np.lexsort((np.arange(len(a)), -a))[:k]
    return order, a[order]


def save_maximizers(path, results: list[Maximizer]):
    """Write results to ``.npz``: ``images (n, 784)``, ``activations``, ``preactivations``,
    ``objectives``, ``bounds`` and ``activation_bounds`` and ``gaps`` (NaN where none), ``seconds``,
    ``units`` and ``methods`` (strings). No pickles: ``np.load(path)`` reads it back."""
    from .atomic import atomic_path

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
