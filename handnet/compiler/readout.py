"""What a spec may take from data: a fitted readout, and biases calibrated to a quantile.

Everything here is deterministic (closed forms, or L-BFGS from zeros), so the same spec and the
same data give the same weights. The logistic fit is also kept on disk (``fitted_logistic``), keyed
by a digest of exactly what it reads, so building the same fitted spec on the same data again
skips the fit and SciPy's import, and gives the same bits.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

FITS_KEPT = 256  # fitted readouts kept on disk (about 1.5 kB each for 16 parts); the oldest go first


def fit_logistic(features: np.ndarray, labels: np.ndarray, n_classes: int = 10, l2: float = 1e-3):
    """Multinomial logistic regression: ``features`` (n, d) in [0, 1], ``labels`` (n,) int.

    Minimizes mean cross-entropy + ``l2/2 * |W|^2`` (the bias is not penalized) with L-BFGS
    from zeros. Returns weights ``(n_classes, d)`` and biases ``(n_classes,)``.
    """
    from scipy.optimize import minimize  # before the thread limit: SciPy brings its own BLAS

    from handnet.threads import one_blas_thread

    X = np.asarray(features, dtype=np.float64)
    n, d = X.shape
    Y = np.eye(n_classes)[np.asarray(labels)]

    def loss(theta):
        W, b = theta[: n_classes * d].reshape(n_classes, d), theta[n_classes * d :]
        z = X @ W.T + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        value = -np.sum(Y * logp) / n + 0.5 * l2 * np.sum(W * W)
        dz = (p - Y) / n
        grad = np.concatenate([(dz.T @ X + l2 * W).ravel(), dz.sum(axis=0)])
        return value, grad

    with one_blas_thread():  # (n, 16) products: a second thread only spins
        result = minimize(loss, np.zeros(n_classes * (d + 1)), jac=True, method="L-BFGS-B",
                          options={"maxiter": 1000, "gtol": 1e-6, "ftol": 1e-10})
    theta = result.x
    return theta[: n_classes * d].reshape(n_classes, d), theta[n_classes * d :]


def fit_key(features: np.ndarray, labels: np.ndarray, n_classes: int, l2: float) -> str:
    """The digest naming one logistic fit: the features' and labels' bytes, ``n_classes``, ``l2``,
    this file (the loss and the optimizer's settings) and the NumPy and SciPy versions."""
    import scipy  # the package only (a few ms), for its version: L-BFGS-B's bits may change with it

    X = np.ascontiguousarray(features, dtype=np.float64)
    y = np.ascontiguousarray(labels, dtype=np.int64)
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(f"|{np.__version__}|{scipy.__version__}|{n_classes}|{float(l2)!r}|{X.shape}|{y.shape}|".encode())
    digest.update(X.tobytes())
    digest.update(y.tobytes())
    return digest.hexdigest()


def fits_dir() -> Path:
    """Where fitted readouts are kept: ``fits/`` in handnet's cache folder (``HANDNET_CACHE``)."""
    from handnet.data.mnist import cache_dir

    return cache_dir() / "fits"


def fitted_logistic(features: np.ndarray, labels: np.ndarray, n_classes: int = 10, l2: float = 1e-3):
    """``fit_logistic``, answered from the cache folder when the same fit was made before.

    The result is stored as its exact float64 bytes under ``fit_key``, so a cached fit and a fresh
    one are the same bits. A missing, damaged or unwritable cache only costs the fit's time.
    """
    n, d = np.shape(features)
    path = fits_dir() / f"logistic-{fit_key(features, labels, n_classes, l2)}.npy"
    try:
        theta = np.load(path, allow_pickle=False)
        if theta.dtype == np.float64 and theta.shape == (n_classes * (d + 1),):
            os.utime(path)  # recently used: kept longest
            return theta[: n_classes * d].reshape(n_classes, d), theta[n_classes * d :]
    except (OSError, ValueError, EOFError):
        pass  # absent or damaged: fit again below
    W, b = fit_logistic(features, labels, n_classes, l2)
    _keep(path, np.concatenate([W.ravel(), b]))
    return W, b


def _keep(path: Path, theta: np.ndarray) -> None:
    """Write ``theta`` to ``path`` atomically, then drop the oldest fits beyond ``FITS_KEPT``."""
    from handnet.atomic import atomic_path
    from handnet.kept import prune_oldest

    try:
        with atomic_path(path) as tmp:
            np.save(tmp, theta, allow_pickle=False)
    except OSError:
        return  # an unwritable or shared cache folder only costs time
    prune_oldest(path.parent, "logistic-*.npy", FITS_KEPT)


def fit_least_squares(features: np.ndarray, labels: np.ndarray, n_classes: int = 10, l2: float = 1e-3):
    """Ridge regression of one-hot targets on ``features`` (n, d), in closed form.

    Solves ``(X'X + n*l2*I) W = X'Y`` on centred data (the bias is not penalized). Returns
    weights ``(n_classes, d)`` and biases ``(n_classes,)``.
    """
    X = np.asarray(features, dtype=np.float64)
    n, d = X.shape
    Y = np.eye(n_classes)[np.asarray(labels)]
    mx, my = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - mx, Y - my
    W = np.linalg.solve(Xc.T @ Xc + n * l2 * np.eye(d), Xc.T @ Yc).T
    return W, my - W @ mx


def quantile_bias(weighted_sums: np.ndarray, quantile: float) -> float:
    """The bias that puts a unit's 0.5 crossing at the ``quantile`` of its weighted sums on data,
    so that fraction of the digits stays below 0.5."""
    return -float(np.quantile(np.asarray(weighted_sums, dtype=np.float64), quantile))
