"""The search: the image in [0, 1]^784 that makes one unit fire hardest.

* A first-hidden-layer unit computes ``act(w . x + b)`` with a monotone ``act``, so its best image
  is exact (``closed_form``): ``x_i = 1`` where ``w_i > 0``, else 0 (box), or
  ``x = max(w, 0) / ||max(w, 0)||`` under the unit-L2-norm constraint. With an L2 penalty
  ``lam * ||x||^2`` the box optimum is still closed form: ``x_i = clip(w_i / (2 lam), 0, 1)``.
* A deeper unit is maximized numerically, with the exact input gradient of ``objectives``.
  First a cheap batched screen: projected gradient ascent from seeded starts (the box corners
  that the gradient at mid-grey, the unit's linear pixel template, and the templates of the four
  units below it with the largest positive weights point to, then uniform random images), each
  run twice, once on the real network and once annealed from sigmoids flattened 4-fold (a
  smoother landscape that helps past saturated plateaus). Then bounded L-BFGS-B
  (``scipy.optimize.minimize``) polishes the best ``restarts`` of those, and a last step moves
  every pixel to the bound its gradient points to while that helps. Under the unit-L2
  constraint the screen's projected gradient is the method.
* ``bounds`` gives the upper bound each result is measured against.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import hashlib
import json
import os
import threading
import time

import numpy as np

from handnet.kept import code_digest, prune_oldest
from handnet.errors import HandnetError
from handnet.inside.maximize.bounds import objective_bounds
from handnet.inside.maximize.objectives import OBJECTIVES, LayerScreen, Problem, unit_values
from handnet.inside.maximize.parameterizations import CONSTRAINTS, project_l2, projection
from handnet.inside.maximize.results import Maximizer
from handnet.nn.network import Network, UnitRef
from handnet.threads import one_blas_thread, single_threaded

ANNEAL_FROM = 4.0  # the temperature annealed screening runs start at


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


PGTOL = 1e-12  # L-BFGS-B's tolerance on the projected gradient


def _lbfgsb(problem, start, maxiter):
    # a start where every pixel sits at the bound its gradient points past (or has no gradient) is
    # where L-BFGS-B stops before its first iteration: the same answer without SciPy's overhead
    value, grad = problem.value_and_grad(start[None])
    g = grad[0]
    projected = np.where(g > 0, np.minimum(1.0 - start, g), np.maximum(-start, g))
    if not np.any(np.abs(projected) > PGTOL):
        return np.clip(start, 0.0, 1.0), float(value[0]), 0
    from scipy.optimize import Bounds, minimize  # before the thread limit: SciPy brings its own BLAS

    def negative(p):
        v, g = problem.value_and_grad(p[None, :])
        return -float(v[0]), -g[0]

    with one_blas_thread():
        res = minimize(
            negative,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=Bounds(np.zeros(start.size), np.ones(start.size)),
            options={"maxiter": maxiter, "ftol": 1e-14, "gtol": PGTOL},
        )
    return np.clip(res.x, 0.0, 1.0), -float(res.fun), int(res.nit)


def projected_gradient(problem, starts, steps: int = 200, lr: float = 0.05, constraint: str = "box",
                       temperatures=None, dtype=float):
    """Projected gradient ascent from every row of ``starts`` at once.

    Each step moves along the gradient scaled to unit RMS (so it crosses the flat plateaus of
    saturated sigmoids at a steady pace), with a step size that decays from ``lr`` to ``lr / 100``,
    then projects back onto the allowed set. ``temperatures`` (one per row, default all 1) anneal
    geometrically to 1: a run starting at 4 sees the sigmoids below the unit flattened 4-fold at
    first, a smoother landscape, and the real network by the end. Returns the best
    ``(variables (n, 784), penalized values (n,))`` of the real network seen along each run.
    ``dtype`` is the precision of the whole run (``LayerScreen`` screens in float32).
    """
    project = projection(constraint)
    P = project(np.array(starts, dtype=dtype))
    best, best_values = P.copy(), np.full(len(P), -np.inf, dtype=P.dtype)
    t0 = None if temperatures is None else np.asarray(temperatures, dtype=P.dtype)[:, None]
    annealing = t0 is not None and np.any(t0 != 1.0)
    for t in range(steps + 1):
        done = t / max(steps - 1, 1)
        if annealing:
            problem.gradient.temperature = t0 ** max(0.0, 1.0 - done)
        v, g = problem.value_and_grad(P)
        if annealing:
            # only the real network's values count as results
            problem.gradient.temperature = 1.0
            v = _values(problem, P) if t == steps or t % 10 == 0 else np.full(len(P), -np.inf)
        better = v > best_values
        np.copyto(best, P, where=better[:, None])  # in place: most rows improve at most steps
        np.copyto(best_values, v, where=better)
        if t == steps:
            break
        # the step, in place: g scaled to unit RMS per row times the decaying step size
        rms = np.sqrt(np.einsum("ij,ij->i", g, g) / g.shape[1]) + 1e-12
        g = np.multiply(g, (lr * (0.01 ** min(done, 1.0)) / rms).astype(P.dtype)[:, None], out=g)  # g is fresh
        P = project(np.add(P, g, out=P))
    problem.gradient.temperature = 1.0
    return best, best_values


def _values(problem, P):
    """The objective alone (no gradient) where the problem offers it (``LayerScreen.values``)."""
    values = getattr(problem, "values", None)
    return values(P) if values is not None else problem.value_and_grad(P)[0]


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


@single_threaded
def random_start_baseline(net, ref, n_starts=100, seed=0, steps=200, objective="preactivation", constraint="box"):
    """The best objective value of ``n_starts`` projected-gradient runs from uniform random images.

    The yardstick a maximizer should match or beat: returns ``(image (784,), value)``.
    """
    ref = net.unit(ref)
    problem = Problem(net, ref, objective, 0.0, 0.0, 0.0)
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0.0, 1.0, size=(n_starts, net.sizes[0]))
    if constraint == "l2":
        starts = project_l2(starts)
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
    from handnet.inside.effective import effective_templates

    corners = [(effective_templates(net, ref.layer)[ref.index] > 0).astype(float)]
    if ref.layer > 0:
        weights = net.layers[ref.layer].weights[ref.index]
        below = effective_templates(net, ref.layer - 1)
        for j in np.argsort(-weights, kind="stable")[:n_below]:
            if weights[j] > 0:
                corners.append((below[j] > 0).astype(float))
    return corners


def _layer_screenable(objective: str, constraint: str, penalties: dict) -> bool:
    """Whether a deeper unit's screen can run batched with its whole layer (``LayerScreen``): the
    default problem, a pre-activation in the box with no penalty."""
    return objective == "preactivation" and constraint == "box" and not penalties


SCREEN_DTYPE = np.float32  # the screen only ranks starting points; the polish is float64
_screens: collections.OrderedDict = collections.OrderedDict()
_SCREENS_KEPT = 16  # layers' screens kept (about 3 MB each for 16 units)


def _layer_screen(net: Network, layer: int, n_starts: int, steps: int, seed: int) -> list:
    """The screen of every unit of ``layer`` at once, in ``SCREEN_DTYPE``: per unit, the best
    ``(variables (2 n_starts, 784), values (2 n_starts,))`` of its seeded runs (``_starts``, each
    run plain and annealed, as the one-unit screen). One batch for the whole layer whichever unit
    is asked, so a unit's result does not depend on which others were maximized with it."""
    key = (_fingerprint(net), layer, n_starts, steps, seed)
    with _cache_lock:
        found = _screens.get(key)
        if found is not None:
            _screens.move_to_end(key)
            return found
    size = net.sizes[0]
    refs = net.units(layer)
    starts, rows = [], []
    for ref in refs:
        unit_starts = _starts(Problem(net, ref, "preactivation", 0.0, 0.0, 0.0), n_starts, seed, size,
                              _template_corners(net, ref))
        starts += unit_starts + unit_starts
        rows += [ref.index] * (2 * n_starts)
    temperatures = np.tile(np.repeat([1.0, ANNEAL_FROM], n_starts), len(refs))
    best, values = projected_gradient(LayerScreen(net, layer, rows, SCREEN_DTYPE), np.stack(starts), steps=steps,
                                      temperatures=temperatures, dtype=SCREEN_DTYPE)
    span = 2 * n_starts
    found = [(best[k * span:(k + 1) * span], values[k * span:(k + 1) * span]) for k in range(len(refs))]
    with _cache_lock:
        _screens[key] = found
        while len(_screens) > _SCREENS_KEPT:
            _screens.popitem(last=False)
    return found


_polishes: collections.OrderedDict = collections.OrderedDict()
_POLISHES_KEPT = 1024  # L-BFGS-B runs kept (about 6 kB each)


def _polish(key, problem, start, maxiter):
    """``_lbfgsb`` from a screened start of a layer screen, remembered under ``key`` (the screen's
    key, the unit, the start's rank and ``maxiter``): the same bits as running it again."""
    with _cache_lock:
        found = _polishes.get(key)
        if found is not None:
            _polishes.move_to_end(key)
            return found
    found = _lbfgsb(problem, start.astype(float), maxiter)
    found[0].setflags(write=False)
    with _cache_lock:
        _polishes[key] = found
        while len(_polishes) > _POLISHES_KEPT:
            _polishes.popitem(last=False)
    return found


_CACHE_SIZE = 512  # maximizers kept (about 7 kB each): the demo draws them for its figures, then its report
_cache: collections.OrderedDict = collections.OrderedDict()
_cache_lock = threading.Lock()


def _fingerprint(net: Network) -> bytes:
    """What ``maximize`` reads of ``net``: every layer's activation, shapes, weights and biases."""
    digest = hashlib.blake2b(digest_size=16)
    for layer in net.layers:
        weights, biases = np.asarray(layer.weights), np.asarray(layer.biases)
        digest.update(f"{layer.activation}|{weights.dtype}|{weights.shape}|{biases.dtype}|".encode())
        digest.update(np.ascontiguousarray(weights).tobytes())
        digest.update(np.ascontiguousarray(biases).tobytes())
    return digest.digest()


def clear_cache() -> None:
    """Forget every cached maximizer, in this process and in the cache folder (benchmarks time the
    search itself)."""
    import shutil

    with _cache_lock:
        _cache.clear()
        _screens.clear()
        _polishes.clear()
    shutil.rmtree(kept_dir(), ignore_errors=True)


# ---- maximizers kept on disk ------------------------------------------------------------------
KEPT_ON_DISK = 2048  # maximizers kept in the cache folder (about 7 kB each); the least recently used go first


def kept_dir():
    """Where maximizers are kept between processes: ``maximize/`` in handnet's cache folder."""
    from handnet.data.mnist import cache_dir

    return cache_dir() / "maximize"


@functools.lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """The search's code (this package, the activations and the forward pass) and NumPy's and SciPy's versions."""
    from pathlib import Path

    import scipy  # the package only, for its version (L-BFGS-B's bits may change with it)

    import handnet.nn

    nn = Path(handnet.nn.__file__).parent
    files = sorted(Path(__file__).parent.glob("*.py")) + [nn / "activations.py", nn / "forward.py"]
    return code_digest(files, f"{np.__version__}|{scipy.__version__}")


def _kept_path(key):
    fingerprint, layer, index, options = key
    digest = hashlib.sha256(_code_digest() + fingerprint)
    digest.update(repr((layer, index, options)).encode())
    return kept_dir() / f"{digest.hexdigest()}.npz"


def _load_kept(key, size: int):
    """The maximizer kept under ``key``, or None (absent, damaged or of another shape)."""
    path = _kept_path(key)
    try:
        with np.load(path, allow_pickle=False) as kept:
            image, fields = kept["image"], json.loads(str(kept["fields"]))
        if image.shape != (size,) or image.dtype != np.float64:
            return None
        found = Maximizer(image=image, **fields)
        os.utime(path)  # recently used: kept longest
        return found
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None


def _keep(key, found: Maximizer) -> None:
    from handnet.atomic import atomic_path

    fields = {f.name: getattr(found, f.name) for f in dataclasses.fields(found) if f.name != "image"}
    try:
        with atomic_path(_kept_path(key)) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, image=np.asarray(found.image, dtype=np.float64), fields=np.array(json.dumps(fields)))
        _written.set()
    except (OSError, TypeError, ValueError):
        pass  # an unwritable cache folder only costs time


_written = threading.Event()  # set when a maximizer was written since the last prune


def _prune_kept() -> None:
    """Drop the least recently used maximizers beyond ``KEPT_ON_DISK`` (when any was written)."""
    if not _written.is_set():
        return
    _written.clear()
    prune_oldest(kept_dir(), "*.npz", KEPT_ON_DISK)


def remember(net: Network, results, **options) -> None:
    """Put maximizers found elsewhere (e.g. by a worker process, for the same ``net`` and
    ``options``) into the cache, so asking for them here does not search again."""
    with _cache_lock:
        for found in results:
            unit = net.unit(found.unit)
            _cache[(_fingerprint(net), unit.layer, unit.index, tuple(sorted(options.items())))] = found
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)


def maximize(net: Network, ref, **options) -> Maximizer:
    """The image in [0, 1]^784 that maximizes one unit (see the module docstring for the method).

    ``ref`` is a unit reference such as ``"edges:upper_bar"``, ``"hidden2:7"`` or ``"digits:3"``;
    ``options`` (keywords only): objective, constraint, restarts, screen, screen_steps, seed, l2,
    tv, blur, maxiter. The search is deterministic, so a unit asked for again with the same
    weights and options is answered from a cache (the same bits; the image is a fresh copy).
    """
    unit = net.unit(ref)
    key, found = _found(net, unit, options)
    if found is None:
        found = _search(net, unit, **options)
        _keep(key, found)
        _remember(key, found)
    return dataclasses.replace(found, unit=str(unit), image=found.image.copy())


def _found(net: Network, unit: UnitRef, options: dict):
    """``(key, the maximizer made before for unit and options)``: from this process's cache, else
    from the cache folder (the search is deterministic: one made in any process will do), else None."""
    # by weights and position, not by name: a net renamed (a twin with the spec's unit names) hits too
    key = (_fingerprint(net), unit.layer, unit.index, tuple(sorted(options.items())))
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return key, found
    found = _load_kept(key, net.sizes[0])
    if found is not None:
        _remember(key, found)
    return key, found


def _remember(key, found: Maximizer) -> None:
    with _cache_lock:
        _cache[key] = found
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


@single_threaded
def _search(
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
    """``maximize`` without the cache: the search itself, every time."""
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
        problem = Problem(net, ref, objective, l2, tv, blur)
        n_starts = max(screen, restarts)
        if _layer_screenable(objective, constraint, penalties):
            # the whole layer screened at once in float32; the float64 polish below refines it
            screened, values = _layer_screen(net, ref.layer, n_starts, screen_steps, seed)[ref.index]
        else:
            # a cheap batched screen from many seeded starts finds the best basin; L-BFGS-B polishes
            starts = _starts(problem, n_starts, seed, size, _template_corners(net, ref))
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
            method = f"projected gradient on the unit L2 ball, best of {2 * n_starts} seeded runs"
        else:
            if _layer_screenable(objective, constraint, penalties):  # the same objective, leaner
                problem = LayerScreen(net, ref.layer, [ref.index], np.float64)
                # a polish depends only on its start: the same unit asked with fewer restarts (the
                # playground's 1 after the figures' 2) reuses the runs already made
                screen_key = (_fingerprint(net), ref.layer, n_starts, screen_steps, seed, ref.index, maxiter)
                results = [_polish(screen_key + (int(i),), problem, screened[i], maxiter) for i in order]
            else:
                results = [_lbfgsb(problem, screened[i].astype(float), maxiter) for i in order]
            best = _push_to_corners(problem, results[int(np.argmax([r[1] for r in results]))][0])
            image = problem.image(best)
            method = f"L-BFGS-B from the best {restarts} of {2 * n_starts} seeded screening runs"
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
    if options.get("constraint", "box") == "box" and any(
            ref.layer > 0 and _found(net, ref, options)[1] is None for ref in refs):
        # deeper units are polished by SciPy, which brings its own BLAS: imported before the limit,
        # the limit covers it once, instead of once per polish (about 2 ms each)
        import scipy.optimize  # noqa: F401
    with one_blas_thread():
        for ref in refs:
            results.append(maximize(net, ref, **options))
            if progress is not None:
                progress(1)
    _prune_kept()
    return results


def top_activating(net: Network, ref, X, k: int = 8):
    """The ``k`` images of ``X`` ``(n, 784)`` that most activate the unit: ``(indices (k,), activations (k,))``,
    highest first (ties broken by index)."""
    return top_activating_units(net, [ref], X, k)[0]


def top_activating_units(net: Network, refs, X, k: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
    """``top_activating`` for each unit of ``refs``, from one forward pass over ``X`` for them all."""
    refs = [net.unit(ref) for ref in refs]
    X = np.asarray(net.as_inputs(X), dtype=float).reshape(-1, net.sizes[0])
    acts = net.forward(X)
    out = []
    for ref in refs:
        a = acts[ref.activation_index][:, ref.index]
        order = np.lexsort((np.arange(len(a)), -a))[:k]
        out.append((order, a[order]))
    return out


