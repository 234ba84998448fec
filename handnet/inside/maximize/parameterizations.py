"""How the image is made from the optimized variables, and where it may lie.

The image lives in the box [0, 1]^784 (pixel brightness, as the lesson's input neurons), or
optionally in the unit L2 ball intersected with x >= 0. With ``blur`` the image is a Gaussian
blur of the variables, which keeps it in the box and smooth.
"""

from __future__ import annotations

import numpy as np

CONSTRAINTS = ("box", "l2")


def blur_operator(sigma: float, shape):
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


def project_l2(P):
    """Projection onto {x >= 0, ||x|| <= 1} (a cone meets a ball: clip, then shrink)."""
    P = np.maximum(P, 0.0)
    norms = np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1.0)
    return P / norms




def projection(constraint: str):
    """The projection onto the allowed set: the box, or the unit L2 ball with x >= 0."""
    return project_l2 if constraint == "l2" else _project_box


def _project_box(P):
    """Projection onto the box [0, 1]^n, in place."""
    return np.clip(P, 0.0, 1.0, out=P)
