"""What a spec may take from data: a fitted readout, and biases calibrated to a quantile.

Everything here is deterministic (closed forms, or L-BFGS from zeros), so the same spec and the
same data give the same weights.
"""

from __future__ import annotations

import numpy as np


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
