"""Seeded data augmentation: small random shifts and rotations of 28x28 digits, vectorized."""

from __future__ import annotations

import numpy as np

AUGMENT_CHUNK = 64  # images per vectorized warp


def augment_images(images, rng: np.random.Generator, max_shift: float, max_rotation: float, *,
                   out=None, index=None) -> np.ndarray:
    """Each image shifted by up to ``max_shift`` pixels and rotated by up to ``max_rotation`` degrees.

    ``images`` is ``(n, rows, cols)`` float; returns a new ``(n, rows, cols)`` array of the same
    dtype (or fills ``out``, any ``(n, rows, cols)`` view, e.g. columns of a larger buffer). A
    bilinear warp vectorized over the images (the rotation is about the image centre; ink moved in
    from outside the frame is black). Shifts and angles are uniform, drawn from ``rng``.

    ``index`` (``(m,)`` ints) warps only ``images[index]`` with the shifts and angles drawn for them
    (all ``n`` are still drawn, so the stream does not depend on it) into an ``(m, rows, cols)``
    result: the trainer augments a large training set in slices this way, in the order it visits
    the images, without a full-size copy.
    """
    images = np.asarray(images)
    dtype = images.dtype if np.issubdtype(images.dtype, np.floating) else np.float32
    shifts, angles = augment_draws(len(images), rng, max_shift, max_rotation, dtype)
    return warp_images(images, shifts, angles, out=out, index=index)


def augment_draws(n: int, rng: np.random.Generator, max_shift: float, max_rotation: float, dtype=np.float32):
    """The random part of ``augment_images``: ``(shifts (n, 2) pixels, angles (n,) radians)`` from ``rng``."""
    shifts = rng.uniform(-max_shift, max_shift, size=(n, 2)).astype(dtype)
    angles = np.deg2rad(rng.uniform(-max_rotation, max_rotation, size=n)).astype(dtype)
    return shifts, angles


def warp_images(images, shifts, angles, *, out=None, index=None) -> np.ndarray:
    """``images`` (or ``images[index]``) each shifted by its ``shifts`` row and rotated by its ``angles``
    entry (see ``augment_images``), into ``out`` or a new array."""
    images = np.asarray(images)
    n, rows, cols = images.shape
    dtype = shifts.dtype
    m = n if index is None else len(index)
    if out is None:
        out = np.empty((m, rows, cols), dtype=dtype)
    grid = _grid(rows, cols, dtype)
    for start in range(0, m, AUGMENT_CHUNK):  # chunks keep the temporaries in cache
        part = slice(start, start + AUGMENT_CHUNK)
        if index is None:
            out[part] = _warp(images[part], shifts[part], angles[part], grid)
        else:
            which = index[part]
            out[part] = _warp(images.take(which, 0), shifts.take(which, 0), angles.take(which, 0), grid)
    return out


def _grid(rows: int, cols: int, dtype):
    """Pixel coordinates about the image centre: ``r`` ``(1, rows, 1)`` and ``c`` ``(1, 1, cols)``."""
    r = (np.arange(rows, dtype=dtype) - (rows - 1) / 2).reshape(1, rows, 1)
    c = (np.arange(cols, dtype=dtype) - (cols - 1) / 2).reshape(1, 1, cols)
    return r, c


def _warp(images, shifts, angles, grid) -> np.ndarray:
    """Bilinear rotation by ``angles`` (radians) and shift by ``shifts`` (pixels), one per image.

    Every output pixel reads its source point ``(cos r + sin c + centre - shift_r, -sin r + cos c +
    centre - shift_c)``; the sums are formed per row and per column first and broadcast, which
    gives the same float32 values as forming them pixel by pixel, in fewer passes.
    """
    n, rows, cols = images.shape
    dtype = shifts.dtype
    r, c = grid
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    # where each output pixel comes from: the inverse rotation of the output grid, minus the shift
    src_r = (cos * r + sin * c) + ((rows - 1) / 2 - shifts[:, :1, None])
    src_c = (-sin * r + cos * c) + ((cols - 1) / 2 - shifts[:, 1:, None])
    np.clip(src_r, -1, rows, out=src_r)
    np.clip(src_c, -1, cols, out=src_c)
    # a zero border (1 before, 2 after) makes every clipped neighbour read black ink
    width = cols + 3
    padded = np.zeros((n, rows + 3, width), dtype=dtype)
    padded[:, 1 : rows + 1, 1 : cols + 1] = images
    flat = padded.ravel()
    # each pixel beside its right-hand neighbour, as one 2-pixel item: one gather reads both
    pairs = np.empty((flat.size - 1, 2), dtype=dtype)
    pairs[:, 0], pairs[:, 1] = flat[:-1], flat[1:]
    pairs = pairs.view(_ITEM[pairs.itemsize * 2]).ravel()  # raw bytes, so the gather copies them unchanged
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = src_r - r0, src_c - c0
    # the flat index of the top-left neighbour (whole numbers, exact in float32 at these sizes)
    r0 *= width
    r0 += c0
    r0 += (np.arange(n, dtype=dtype) * ((rows + 3) * width) + (width + 1))[:, None, None]
    base = r0.astype(np.int32).astype(np.intp)
    top = pairs.take(base).view(dtype).reshape(n, rows, cols, 2)  # (v00, v01)
    bottom = pairs[width:].take(base).view(dtype).reshape(n, rows, cols, 2)  # (v10, v11), a row below
    v00, v10 = top[..., 0], bottom[..., 0]
    upper = top[..., 1] - v00
    upper *= fc
    upper += v00  # v00 + fc (v01 - v00)
    lower = bottom[..., 1] - v10
    lower *= fc
    lower += v10  # v10 + fc (v11 - v10)
    lower -= upper
    lower *= fr
    lower += upper  # upper + fr (lower - upper)
    return lower


_ITEM = {8: np.uint64, 16: np.dtype((np.void, 16))}  # two float32s, two float64s
