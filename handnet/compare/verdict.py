"""The verdict: what two networks' numbers mean, in words, each claim beside its baseline.

``verdict(comparison, X, correct_a, correct_b)`` turns a ``Comparison`` into claims a learner can
read, each computed from a number with a stated threshold and citing the number, its 95% interval
and the baseline that gives it meaning:

- accuracy: each net against guessing (Wilson interval; "no better than guessing" when the
  interval reaches the guessing rate), and the two nets against each other (paired difference on
  the same digits, normal interval; "within noise" when it contains 0);
- little edges in the first hidden layer: the median little-edge score (``edgelike.little_edge``:
  localized and oriented) over units with a bootstrap interval, against ``LITTLE_EDGE`` (what a
  drawn straight stroke clears) and weights that are no edge detectors: white noise, blurred noise,
  the digits' principal components and mean digit images (``little_edge_baselines``);
- representation: linear CKA of each pair of hidden layers with a bootstrap interval over test
  images, against what a network of the same shape with random weights shares with each
  (``RANDOM_SEEDS`` seeds);
- noise: the share of uniform-noise images, noise images at the digits' mean ink and blurred blobs
  each net calls a digit with confidence >= 0.9, against the same share on real digits.

Every threshold is in ``THRESHOLDS`` and in ``Verdict.to_dict()["thresholds"]``; every interval
is seeded (``SEED``), so the same numbers give the same verdict.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from handnet.compare import edgelike, similarity
from handnet.nn.network import Network, random_network
from handnet.threads import one_blas_thread

Z95 = 1.959963984540054
SEED = 0
BOOTSTRAP = 400  # resamples for the bootstrap intervals
RANDOM_SEEDS = (101, 102, 103)  # random nets of the same shape: the CKA baseline
EDGE_LIKE = 0.8  # stroke fit: a unit is a drawn stroke when its weights correlate this well with one (the spec's edges: 0.86-1.0)
# little-edge score: a drawn straight stroke template scores 0.7-0.85, a wide one (3b1b.toml's) 0.5-0.65; weights with
# no edge in them stay below 0.35 at the median (white noise 0.03, blurred noise 0.11, the digits' principal components
# and mean digit images 0.26-0.32; benchmarks/edge_likeness_baselines.py). 0.5 sits between the two.
LITTLE_EDGE = 0.5
SAME_REPRESENTATION = 0.9  # CKA at or above this: the two layers carry the same geometry
RARELY = 0.05  # a net "is rarely sure" of nonsense when the upper 95% bound of that share is below 5%
BLUR_SIGMA = 2.0  # px: blurred noise, smooth blobs about a stroke's width
THRESHOLDS = {
    "little_edge": LITTLE_EDGE,
    "little_edge_radius_px": edgelike.LITTLE_EDGE_RADIUS,
    "edge_like": EDGE_LIKE,
    "same_representation_cka": SAME_REPRESENTATION,
    "confident": 0.9,
    "rarely": RARELY,
    "interval": "95%",
    "bootstrap_resamples": BOOTSTRAP,
    "random_net_seeds": list(RANDOM_SEEDS),
    "blurred_noise_sigma_px": BLUR_SIGMA,
}


@dataclass
class Claim:
    """One sentence of the verdict and the numbers behind it."""

    topic: str
    text: str
    value: float
    interval: tuple | None
    baselines: dict = field(default_factory=dict)
    within_noise: bool | None = None

    def to_dict(self) -> dict:
        return {"topic": self.topic, "text": self.text, "value": self.value,
                "ci95": list(self.interval) if self.interval is not None else None,
                "baselines": self.baselines, "within_noise": self.within_noise}


@dataclass
class Verdict:
    claims: list

    def lines(self) -> list[str]:
        return [c.text for c in self.claims]

    def text(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict:
        return {"claims": [c.to_dict() for c in self.claims], "thresholds": THRESHOLDS,
                "summary": " ".join(self.lines())}


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / n`` (95% by default).

    Unlike the normal approximation it stays inside [0, 1] and is sensible at 0% and 100%.
    ``n == 0`` gives ``(nan, nan)``.
    """
    if n <= 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def _pct(x) -> str:
    return f"{100 * x:.1f}%"


def bootstrap_median(values, seed: int = SEED, n: int = BOOTSTRAP) -> tuple[float, float]:
    """95% percentile-bootstrap interval for the median of ``values`` (seeded)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    medians = np.median(v[rng.integers(0, v.size, size=(n, v.size))], axis=1)
    return (float(np.quantile(medians, 0.025)), float(np.quantile(medians, 0.975)))


def bootstrap_cka(X, Y, seed: int = SEED, n: int = BOOTSTRAP) -> tuple[float, float]:
    """95% percentile-bootstrap interval for linear CKA over resampled images (seeded)."""
    rng = np.random.default_rng(seed)
    k = len(X)
    values = []
    for _ in range(n):
        i = rng.integers(0, k, size=k)
        values.append(similarity.linear_cka(X[i], Y[i]))
    return (float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975)))


def paired_difference(correct_a, correct_b) -> tuple[float, tuple[float, float]]:
    """Accuracy of B minus accuracy of A on the same images, with a 95% normal interval for paired data."""
    d = np.asarray(correct_b, dtype=float) - np.asarray(correct_a, dtype=float)
    n = d.size
    mean = float(d.mean()) if n else float("nan")
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return mean, (mean - Z95 * se, mean + Z95 * se)


@functools.lru_cache(maxsize=4)
def blurred_noise_edge_likeness(units: int = 16, seed: int = SEED, sigma: float = BLUR_SIGMA) -> float:
    """Median edge-likeness of ``units`` weight vectors of Gaussian noise blurred by ``sigma`` px:
    smooth blobs with no stroke in them, the baseline a stroke detector must beat (seeded)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    W = np.stack([gaussian_filter(rng.standard_normal((28, 28)), sigma).ravel() for _ in range(units)])
    net = random_network((784, units, 10), seed=seed)
    net = net.replace_layer(0, net.layers[0].replace(weights=W))
    return float(np.median([f.correlation for f in edgelike.edge_likeness(net, layer=0)]))


def _median_edge_likeness(W) -> float:
    W = np.asarray(W, dtype=float)
    net = random_network((784, len(W), 10), seed=SEED)
    net = net.replace_layer(0, net.layers[0].replace(weights=W))
    return float(np.median([f.correlation for f in edgelike.edge_likeness(net, layer=0)]))


_axes: dict = {}  # digest of the digits -> their principal axes (the study asks twice for the same digits)


def principal_axes(X) -> np.ndarray:
    """The principal axes ``(k, 784)`` of the digits ``X`` (their first 4,000, centred on the mean of
    all), strongest first: ``vt`` of their SVD. Kept for the last two sets of digits asked about."""
    import hashlib

    X = np.ascontiguousarray(X, dtype=float)
    key = (X.shape, hashlib.blake2b(X.tobytes(), digest_size=16).digest())
    if key not in _axes:
        from handnet.data.mnist import cache_dir

        # kept on disk too (a report after the demo reads the same digits): by the digits, NumPy's version
        name = hashlib.sha256(repr((key, np.__version__, "svd-v1")).encode()).hexdigest()
        path = cache_dir() / "axes" / f"{name}.npy"
        try:
            vt = np.load(path, allow_pickle=False)
            if vt.shape != (min(X.shape[1], min(len(X), 4000)), X.shape[1]) or vt.dtype != np.float64:
                raise ValueError("another shape")
        except (OSError, ValueError, EOFError):
            with one_blas_thread():  # a small product: one BLAS thread is faster on a shared machine than several
                _, _, vt = np.linalg.svd(X[: min(len(X), 4000)] - X.mean(axis=0), full_matrices=False)
            _keep_axes(path, vt)
        vt.setflags(write=False)
        while len(_axes) >= 2:
            _axes.pop(next(iter(_axes)))
        _axes[key] = vt
    return _axes[key]


AXES_ON_DISK = 4  # sets of principal axes kept (about 5 MB each for 784 pixels)


def _keep_axes(path, vt) -> None:
    from handnet.atomic import atomic_path
    from handnet.kept import prune_oldest

    try:
        with atomic_path(path) as tmp:
            np.save(tmp, vt, allow_pickle=False)
    except OSError:
        return  # an unwritable cache folder only costs time
    prune_oldest(path.parent, "*.npy", AXES_ON_DISK)


def edge_baselines(X_train, y_train, units: int = 16, seed: int = SEED) -> dict:
    """Median edge-likeness of weight vectors with no stroke detector in them: white noise, blurred
    noise, the first ``units`` principal components of the training digits and the mean image of
    each digit (centred on the mean digit). A measure of "little edges" should score them all low."""
    X = np.asarray(X_train, dtype=float)
    vt = principal_axes(X)
    means = np.stack([X[np.asarray(y_train) == d].mean(axis=0) for d in np.unique(y_train)])
    rng = np.random.default_rng(seed)
    return {"white noise": _median_edge_likeness(rng.standard_normal((units, 784))),
            "blurred noise": blurred_noise_edge_likeness(units, seed),
            "principal components": _median_edge_likeness(vt[:units]),
            "mean digit images": _median_edge_likeness(means - X.mean(axis=0))}


def non_edge_weights(X, y, units: int = 16, seed: int = SEED) -> dict:
    """Weight vectors ``(k, 784)`` with no edge detector in them, by name: white noise, blurred noise
    (``BLUR_SIGMA`` px), the first ``units`` principal components of the digits ``X`` and the mean
    image of each digit label in ``y`` less the mean digit (seeded)."""
    from scipy.ndimage import gaussian_filter

    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    vt = principal_axes(X)
    white = rng.standard_normal((units, 784))
    blurred = np.stack([gaussian_filter(v.reshape(28, 28), BLUR_SIGMA).ravel() for v in rng.standard_normal((units, 784))])
    out = {"white noise": white, "blurred noise": blurred,
           "principal components": vt[:units]}
    labels = np.unique(y)
    if labels.size > 1:
        out["mean digit images"] = np.stack([X[y == d].mean(axis=0) for d in labels]) - X.mean(axis=0)
    return out


def little_edge_baselines(X, y, units: int = 16, seed: int = SEED) -> dict:
    """Median little-edge score (``edgelike.little_edge``) of each kind of ``non_edge_weights``."""
    return {k: float(np.median(edgelike.little_edge_scores(W))) for k, W in non_edge_weights(X, y, units, seed).items()}


def baseline_claim(baselines: dict, hand_median: float, twin_median: float, little: dict | None = None,
                   hand_little: float | None = None, twin_little: float | None = None) -> Claim:
    """Does each measure separate strokes from blobs? The stroke fit (``baselines``: its medians on
    weights that are no edge detectors) and, when given, the little-edge score (``little``)."""
    top_name = max(baselines, key=baselines.get)
    top = baselines[top_name]
    listed = ", ".join(f"{k} {v:.2f}" for k, v in baselines.items())
    if twin_median > top:
        words = "the twin's first layer scores above every non-edge baseline"
    else:
        words = (f"the stroke fit does not separate strokes from blobs: {top_name} score {top:.2f}, at or above "
                 "the twin's first layer")
    text = f"Stroke fit of weights with no edge in them ({listed}): {words} (twin {twin_median:.2f}, hand {hand_median:.2f})."
    base = {f"stroke fit: {k}": v for k, v in baselines.items()}
    if little:
        ltop = max(little.values())
        separates = ltop < LITTLE_EDGE
        text += (" The little-edge score (localized and oriented) ranks them "
                 + " < ".join(f"{k} {v:.2f}" for k, v in sorted(little.items(), key=lambda kv: kv[1]))
                 + f", all below the {LITTLE_EDGE:.2f} a drawn straight stroke clears"
                 + (f" (twin {twin_little:.2f}, hand {hand_little:.2f})" if twin_little is not None else "")
                 + (": it separates little edges from blobs, so the verdict uses it." if separates else
                    ": it too fails to separate them here."))
        base.update({f"little-edge score: {k}": v for k, v in little.items()})
    return Claim("edge-likeness baselines", text, twin_median, None, base, twin_median <= top)


def accuracy_claims(name_a, name_b, acc_a, acc_b, correct_a, correct_b, chance: float) -> list[Claim]:
    claims = []
    for name, acc in ((name_a, acc_a), (name_b, acc_b)):
        lo, hi = acc.interval
        beyond = lo > chance
        words = "better than guessing" if beyond else "no better than guessing (within noise)"
        claims.append(Claim("accuracy", f"{name} answers {_pct(acc.accuracy)} of {acc.n:,} test digits right "
                            f"(95% CI {_pct(lo)}-{_pct(hi)}), against {_pct(chance)} for guessing: {words}.",
                            acc.accuracy, (lo, hi), {"guessing": chance}, not beyond))
    diff, (lo, hi) = paired_difference(correct_a, correct_b)
    within = lo <= 0 <= hi
    if within:
        words = f"{name_a} and {name_b} are equally accurate within noise"
    else:
        better, worse = (name_b, name_a) if diff > 0 else (name_a, name_b)
        words = f"{better} is more accurate than {worse}"
    claims.append(Claim("accuracy difference", f"{words}: {name_b} minus {name_a} is {100 * diff:+.1f} points "
                        f"(paired 95% CI {100 * lo:+.1f} to {100 * hi:+.1f}, same digits), against 0 for no difference.",
                        diff, (lo, hi), {"no difference": 0.0}, within))
    return claims


def edge_claim(name: str, fits, baselines: dict) -> Claim:
    """Is the first hidden layer made of little edges? The median little-edge score over its units
    (``edgelike.little_edge``: localized and oriented) with a bootstrap interval, against
    ``LITTLE_EDGE`` and ``baselines`` (``little_edge_baselines``: white noise, blurred noise, the
    digits' principal components, mean digit images).

    Words: "made of little edges" when the whole interval is at or above ``LITTLE_EDGE``; "may be
    (within noise)" when it reaches it; below that, which baselines the interval clears: the
    digit-wide patterns (principal components and mean images), blurred noise, or none.
    """
    values = [f.little_edge_score for f in fits]
    med = float(np.median(values))
    lo, hi = bootstrap_median(values)
    white = baselines.get("white noise", 0.0)
    blurred = baselines.get("blurred noise", white)
    digit_wide = max([baselines[k] for k in ("principal components", "mean digit images") if k in baselines] or [blurred])
    if lo >= LITTLE_EDGE:
        words, within = "is made of little edges", False
    elif hi >= LITTLE_EDGE:
        words, within = "may be made of little edges: the interval reaches the threshold (within noise)", True
    elif lo > digit_wide:
        words, within = ("is not made of little edges, though more edge-like than the digits' principal components "
                         "and mean images"), False
    elif lo > blurred:
        words, within = ("is not made of little edges: more edge-like than blurred noise, no more than digit-wide "
                         "patterns (principal components, mean digit images)"), hi >= digit_wide
    elif lo > white:
        words, within = "is not made of little edges: no more than blurred noise (within noise of smooth blobs)", True
    else:
        words, within = "is not made of little edges: no more than white noise", True
    listed = ", ".join(f"{v:.2f} for {k}" for k, v in baselines.items())
    text = (f"{name}'s first hidden layer {words}: median little-edge score {med:.2f} (95% CI {lo:.2f}-{hi:.2f}, "
            f"{len(values)} units; localized in a {2 * edgelike.LITTLE_EDGE_RADIUS:.0f} px disc and oriented), against "
            f"{LITTLE_EDGE:.2f} that a drawn straight stroke clears, {listed}.")
    return Claim("edge-likeness", text, med, (lo, hi), {"little edge threshold": LITTLE_EDGE, **baselines}, within)


def random_cka(net: Network, layer: int, X, acts) -> list[float]:
    """CKA between ``net``'s layer ``layer`` and the same layer of random nets of the same shape."""
    out = []
    for seed in RANDOM_SEEDS:
        r = random_network(net.sizes, seed=seed, activations=[lay.activation for lay in net.layers])
        out.append(similarity.linear_cka(acts, r.forward(X)[layer + 1]))
    return out


def cka_claim(name_a, name_b, a: Network, b: Network, layer: int, X, acts_a, acts_b) -> Claim:
    value = similarity.linear_cka(acts_a, acts_b)
    lo, hi = bootstrap_cka(acts_a, acts_b)
    base = random_cka(a, layer, X, acts_a) + random_cka(b, layer, X, acts_b)
    ceiling = float(max(base))
    label = f"{a.layers[layer].name} ({name_a}) and {b.layers[layer].name} ({name_b})"
    if lo >= SAME_REPRESENTATION:
        words, within = "carry the same representation", False
    elif lo > ceiling:
        words, within = "share more than chance, short of the same representation", False
    else:
        words, within = "share no more than a random net of the same shape does (within noise)", True
    text = (f"{label} {words}: linear CKA {value:.2f} (95% CI {lo:.2f}-{hi:.2f}), against {np.mean(base):.2f} "
            f"(up to {ceiling:.2f}) between either and a random net of the same shape ({len(RANDOM_SEEDS)} seeds) "
            f"and {SAME_REPRESENTATION:.2f} for the same representation.")
    return Claim("representation", text, value, (lo, hi),
                 {"random net (mean)": float(np.mean(base)), "random net (max)": ceiling,
                  "same representation": SAME_REPRESENTATION}, within)


def firing_claim(name: str, firing: dict, hope=(8, 10)) -> Claim:
    """How many first-layer units a digit lights up, against the lesson's hope of 8-10."""
    mean, (lo, hi) = firing["mean"], firing["ci95"]
    if hope[0] <= lo and hi <= hope[1]:
        words, within = "as many as the lesson hopes", False
    elif hi < hope[0]:
        words, within = "fewer than the lesson hopes", False
    elif lo > hope[1]:
        words, within = "more than the lesson hopes", False
    else:
        words, within = "at the edge of the lesson's range (within noise)", True
    over = f"mean over {firing['n_digits']:,} test digits of the count with activation > " if "n_digits" in firing else \
        "activation > "
    text = (f"{name} lights up {mean:.1f} of its {firing['units']} first-layer units per digit ({over}"
            f"{firing['threshold']}; 95% CI {lo:.1f}-{hi:.1f}): {words}, against the {hope[0]}-{hope[1]} it hopes for.")
    return Claim("units firing per digit", text, mean, (lo, hi), {"lesson's hope": list(hope)}, within)


NOISE_KINDS = (("noise", "uniform-noise images"), ("ink_noise", "noise images at the digits' mean ink"),
               ("blobs", "blurred blobs"))


def twin_claims(hand: Network, twin: Network, other_twin: Network, X, seed: int = SEED, n: int = BOOTSTRAP) -> list[Claim]:
    """Hand vs trained against trained vs trained: for each hidden layer, linear CKA between the hand
    net and the twin, and between the twin and a second trained seed (the baseline: how alike two
    nets trained the same way are), with a paired bootstrap interval for the difference (same
    resampled images). "Within noise" when that interval contains 0."""
    acts_h, acts_t, acts_o = hand.forward(X), twin.forward(X), other_twin.forward(X)
    rng = np.random.default_rng(seed)
    claims = []
    for li in range(len(hand.layers) - 1):
        h, t, o = acts_h[li + 1], acts_t[li + 1], acts_o[li + 1]
        value, base = similarity.linear_cka(h, t), similarity.linear_cka(o, t)
        diffs = []
        for _ in range(n):
            i = rng.integers(0, len(X), size=len(X))
            diffs.append(similarity.linear_cka(h[i], t[i]) - similarity.linear_cka(o[i], t[i]))
        lo, hi = float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))
        within = lo <= 0 <= hi
        words = ("as alike to the twin as a second trained seed is (within noise)" if within else
                 "less alike to the twin than a second trained seed is" if value < base else
                 "more alike to the twin than a second trained seed is")
        text = (f"The hand net's layer {hand.layers[li].name} is {words}: linear CKA {value:.2f} with the twin's "
                f"{twin.layers[li].name}, against {base:.2f} between two trained seeds (difference {value - base:+.2f}, "
                f"paired bootstrap 95% CI {lo:+.2f} to {hi:+.2f}).")
        claims.append(Claim("representation vs a second seed", text, value - base, (lo, hi),
                            {"trained vs trained": base}, within))
    return claims


def noise_claims(name: str, noise: dict) -> list[Claim]:
    """How often each kind of non-digit is called a digit with confidence >= 0.9, against real digits."""
    claims = []
    digits = noise["digits"]["fraction_confident"]
    for key, what in NOISE_KINDS:
        if key not in noise:
            continue
        n = noise[key]
        share, count = n["fraction_confident"], n["n"]
        lo, hi = wilson_interval(round(share * count), count)
        normalized = n.get("fraction_confident_normalized")
        extra = "" if normalized is None else f"; {_pct(normalized)} by the normalized top output"
        text = (f"{name} calls {_pct(share)} of {count:,} {what} a digit with confidence >= 0.9 "
                f"(95% CI {_pct(lo)}-{_pct(hi)}{extra}), against {_pct(digits)} of real digits"
                + (": it is rarely sure of them." if hi < RARELY else
                   ": less often than of real digits, but often." if hi < digits else
                   ": as often as real digits (within noise)."))
        claims.append(Claim("noise", text, share, (lo, hi), {"real digits": digits}, hi >= digits))
    return claims


def verdict(comparison, X, correct_a, correct_b, acts=None, y=None) -> Verdict:
    """The claims for one ``Comparison`` of nets A and B on test images ``X`` (the digits it scored),
    ``correct_a``/``correct_b`` (n,) bool: which of those each net answered right; ``acts``: both
    nets' ``forward(X)`` when the caller has them; ``y``: the labels of ``X`` (for the mean digit
    images among the little-edge baselines; without them that baseline is left out)."""
    a, b = comparison.a.network, comparison.b.network
    na, nb = comparison.a.name or "A", comparison.b.name or "B"
    chance = 1.0 / max(1, len(comparison.scope.labels) if comparison.scope is not None else 10)
    full_a, full_b = acts if acts is not None else (a.forward(X), b.forward(X))
    claims = accuracy_claims(na, nb, comparison.a.accuracy, comparison.b.accuracy, correct_a, correct_b, chance)
    first_a = [f for f in comparison.a.edges if not f.linear_approximation]
    first_b = [f for f in comparison.b.edges if not f.linear_approximation]
    little = little_edge_baselines(X, y if y is not None else np.zeros(len(X), dtype=int), a.layers[0].n_out)
    claims += [edge_claim(na, first_a, little), edge_claim(nb, first_b, little)]
    claims += [cka_claim(na, nb, a, b, li, X, full_a[li + 1], full_b[li + 1]) for li in range(len(a.layers) - 1)]
    claims += [firing_claim(p.name or "A", p.firing) for p in (comparison.a, comparison.b) if p.firing]
    claims += noise_claims(na, comparison.a.noise) + noise_claims(nb, comparison.b.noise)
    return Verdict(claims)
