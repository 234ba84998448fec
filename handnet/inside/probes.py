"""Probes that poke a network and watch what happens: noise and blank images, and unit ablation.

The lesson notes that the trained network, shown random noise, confidently names a digit: it was
never trained to be unsure. ``noise_test`` measures that. ``ablation`` silences one hidden unit at
a time and measures how much accuracy each one carries.
"""

from __future__ import annotations

import functools

import numpy as np

from handnet.nn.forward import forward
from handnet.nn.network import Network

CONFIDENT = 0.9  # an output this bright counts as a confident answer


def confidence_stats(outputs: np.ndarray, read=None) -> dict:
    """Summary of output activations ``(n, outputs)``: confidence is the brightest answering output's
    value; ``predicted_counts[d]`` how often digit ``d`` was the answer (10 counts; output units
    answer by name, ``read`` being their ``handnet.nn.labels.Readout``, default: by position)."""
    outputs = np.asarray(outputs)
    if read is not None:
        predicted = read.predict(outputs)
        outputs = outputs[:, list(read.columns)]
    else:
        predicted = outputs.argmax(axis=1)
    confidence = outputs.max(axis=1)
    # normalized: the top output's share of all outputs, so sigmoid and softmax outputs read on one scale
    total = outputs.sum(axis=1)
    normalized = np.divide(confidence, total, out=np.zeros_like(confidence, dtype=float), where=total > 0)
    return {
        "n": int(len(outputs)),
        "mean_confidence": float(confidence.mean()),
        "median_confidence": float(np.median(confidence)),
        "fraction_confident": float(np.mean(confidence >= CONFIDENT)),
        "mean_normalized": float(normalized.mean()),
        "fraction_confident_normalized": float(np.mean(normalized >= CONFIDENT)),
        "predicted_counts": np.bincount(predicted, minlength=max(10, outputs.shape[1]))[: max(10, outputs.shape[1])].tolist(),
    }


def noise_images(n: int, seed: int = 0) -> np.ndarray:
    """``n`` images of uniform random noise: ``(n, 784)`` float in [0, 1], from an explicit seed."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, 784))


MEAN_INK_FALLBACK = 0.13  # MNIST's mean pixel value: the digits' ink, when no digits are given
BLOB_SIGMA = 2.0  # px: blurred blobs about a stroke's width


def ink_noise_images(n: int, mean_ink: float, seed: int = 0) -> np.ndarray:
    """``n`` images of uniform noise scaled so that their mean pixel is ``mean_ink`` (the digits'
    mean ink, ~0.13 on MNIST, not uniform noise's 0.5): ``(n, 784)`` in [0, 1], seeded."""
    scale = min(1.0, 2.0 * float(mean_ink))
    return np.random.default_rng(seed).uniform(0.0, scale, size=(n, 784))


def blob_images(n: int, mean_ink: float, seed: int = 0, sigma: float = BLOB_SIGMA) -> np.ndarray:
    """``n`` smooth blobs: Gaussian noise blurred by ``sigma`` px, its brightest third kept as ink and
    rescaled to the digits' mean ink ``mean_ink``: ``(n, 784)`` in [0, 1], seeded. The array is
    read-only: the same blobs are shared by every network tested on the same digits."""
    return _blob_images(int(n), float(mean_ink), int(seed), float(sigma))


@functools.lru_cache(maxsize=4)  # a study tests five networks on one set of digits: one set of blobs
def _blob_images(n: int, mean_ink: float, seed: int, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    # all n at once, each blurred in its own plane (sigma 0 across images): the same numbers, bit for
    # bit, as one image at a time (tested), in a third of the time
    b = gaussian_filter(rng.standard_normal((n, 28, 28)), (0, sigma, sigma)).reshape(n, 784)
    b = np.clip(b - np.quantile(b, 2 / 3, axis=1, keepdims=True), 0, None)
    b = b / np.maximum(b.mean(axis=1, keepdims=True), 1e-12) * float(mean_ink)
    out = np.clip(b, 0.0, 1.0)
    out.setflags(write=False)
    return out


def noise_test(net: Network, X_digits, n_noise: int = 1000, seed: int = 0, digit_outputs=None, read=None) -> dict:
    """The network's output confidence on uniform noise, on noise at the digits' mean ink, on
    blurred blobs, on a blank (all-black) image and on real digits.

    ``X_digits`` (n, 784) float in [0, 1]. Returns ``{"noise": stats, "ink_noise": stats, "blobs":
    stats, "blank": stats, "digits": stats, "mean_ink"}`` with ``confidence_stats`` for each (raw top
    output and normalized, the top output's share of all outputs); a network that knows what it does not know would give noise
    and blank images low confidence. ``digit_outputs``: the net's outputs on ``X_digits``, when
    already computed. ``read``: how the outputs answer digits (``handnet.nn.labels.readout``;
    default: the net's own readout).
    """
    from handnet.nn.labels import answers

    read = read if read is not None else answers(net)
    blank = np.zeros((1, net.layers[0].n_in))
    X_digits = np.asarray(X_digits)
    mean_ink = float(X_digits.mean()) if X_digits.size else MEAN_INK_FALLBACK
    image_input = net.layers[0].n_in == 784
    return {
        "noise": confidence_stats(net.output(noise_images(n_noise, seed)), read),
        **({"ink_noise": confidence_stats(net.output(ink_noise_images(n_noise, mean_ink, seed)), read),
            "blobs": confidence_stats(net.output(blob_images(n_noise, mean_ink, seed)), read)} if image_input else {}),
        "mean_ink": mean_ink,
        "blank": confidence_stats(net.output(blank), read),
        "digits": confidence_stats(net.output(X_digits) if digit_outputs is None else digit_outputs, read),
        "confident_threshold": CONFIDENT,
        "seed": seed,
    }


def forward_from(net: Network, layer: int, activations: np.ndarray) -> np.ndarray:
    """The output when layer ``layer``'s activations ``(n, units)`` are given instead of computed."""
    return forward(net.layers[layer + 1 :], activations)[0][-1]


def per_digit_accuracy(predictions, y, n_classes: int = 10) -> list[float]:
    """Fraction correct for each true digit 0..n_classes-1 (NaN for a digit with no images)."""
    y = np.asarray(y)
    return [float(np.mean(predictions[y == d] == d)) if np.any(y == d) else float("nan") for d in range(n_classes)]


def ablation(net: Network, X, y, mode: str = "zero", layers=None, progress=None, acts=None, read=None) -> dict:
    """Accuracy lost when each hidden unit is silenced, one at a time.

    ``mode="zero"`` sets the unit's activation to 0 on every image; ``mode="mean"`` sets it to its
    mean over ``X``, which removes the information it carries without shifting the layer above.
    Returns ``{"mode", "baseline": {"accuracy", "per_digit"}, "units": [{"unit", "accuracy",
    "drop", "per_digit_drop"}, ...]}``; a drop is baseline minus ablated (positive = the unit helped).
    ``progress`` is called with the number of units done after each unit. ``acts``: ``net.forward(X)``,
    when already computed. Output units answer by name (``read``: a ``handnet.nn.labels.Readout``,
    default the net's own); per-digit lists are indexed by digit.
    """
    from handnet.nn.labels import answers

    if mode not in ("zero", "mean"):
        raise ValueError(f"ablation mode {mode!r} is not 'zero' or 'mean'")
    read = read if read is not None else answers(net)
    y = np.asarray(y)
    acts = net.forward(X) if acts is None else acts
    n_classes = max(10, max(read.labels) + 1)
    base_pred = read.predict(acts[-1])
    base_acc = float(np.mean(base_pred == y))
    base_digits = per_digit_accuracy(base_pred, y, n_classes)
    chosen = range(len(net.layers) - 1) if layers is None else [
        layer if isinstance(layer, int) else net.layer_index(layer) for layer in layers
    ]
    units = []
    for li in chosen:
        layer_acts = acts[li + 1]
        for j, name in enumerate(net.layers[li].units):
            silenced = layer_acts.copy()
            silenced[:, j] = 0.0 if mode == "zero" else layer_acts[:, j].mean()
            pred = read.predict(forward_from(net, li, silenced))
            acc = float(np.mean(pred == y))
            digits = per_digit_accuracy(pred, y, n_classes)
            units.append(
                {
                    "unit": f"{net.layers[li].name}:{name}",
                    "accuracy": acc,
                    "drop": base_acc - acc,
                    "per_digit_drop": [b - a for b, a in zip(base_digits, digits)],
                }
            )
            if progress is not None:
                progress(1)
    return {"mode": mode, "baseline": {"accuracy": base_acc, "per_digit": base_digits}, "units": units}
