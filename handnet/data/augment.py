"""Seeded data augmentation: small random shifts and rotations of 28x28 digits, vectorized."""

from __future__ import annotations

import numpy as np

AUGMENT_CHUNK = 64  # images per vectorized warp


def augment_images(images, rng: np.random.Generator, max_shift: float, max_rotation: float) -> np.ndarray:
    """Each image shifted by up to ``max_shift`` pixels and rotated by up to ``max_rotation`` degrees.

    ``images`` is ``(n, rows, cols)`` float; returns a new ``(n, rows, cols)`` array of the same
    dtype. A bilinear warp vectorized over the images (the rotation is about the image centre;
    ink moved in from outside the frame is black). Shifts and angles are uniform, drawn from ``rng``.
    """
    images = np.asarray(images)
    n, rows, cols = images.shape
    dtype = images.dtype if np.issubdtype(images.dtype, np.floating) else np.float32
    shifts = rng.uniform(-max_shift, max_shift, size=(n, 2)).astype(dtype)
    angles = np.deg2rad(rng.uniform(-max_rotation, max_rotation, size=n)).astype(dtype)
    out = np.empty((n, rows, cols), dtype=dtype)
    for start in range(0, n, AUGMENT_CHUNK):  # chunks keep the temporaries in cache
        part = slice(start, start + AUGMENT_CHUNK)
        out[part] = _warp(images[part], shifts[part], angles[part], dtype)
    return out


def _warp(images, shifts, angles, dtype) -> np.ndarray:
    """Bilinear rotation by ``angles`` (radians) and shift by ``shifts`` (pixels), one per image."""
    n, rows, cols = images.shape
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    r, c = np.mgrid[0:rows, 0:cols].astype(dtype)
    r = (r - (rows - 1) / 2).ravel()[None, :]
    c = (c - (cols - 1) / 2).ravel()[None, :]
    # where each output pixel comes from: the inverse rotation of the output grid, minus the shift
    src_r = np.clip(cos * r + sin * c + ((rows - 1) / 2 - shifts[:, :1]), -1, rows)
    src_c = np.clip(-sin * r + cos * c + ((cols - 1) / 2 - shifts[:, 1:]), -1, cols)
    # a zero border (1 before, 2 after) makes every clipped neighbour read black ink
    width = cols + 3
    padded = np.zeros((n, rows + 3, width), dtype=dtype)
    padded[:, 1 : rows + 1, 1 : cols + 1] = images
    flat = padded.ravel()
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = src_r - r0, src_c - c0
    base = (r0.astype(np.int32) + 1) * width + (c0.astype(np.int32) + 1)
    base += (np.arange(n, dtype=np.int32) * (rows + 3) * width)[:, None]
    v00, v01 = flat.take(base), flat.take(base + 1)
    v10, v11 = flat.take(base + width), flat.take(base + width + 1)
    top = v00 + fc * (v01 - v00)
    bottom = v10 + fc * (v11 - v10)
    return (top + fr * (bottom - top)).reshape(n, rows, cols)
