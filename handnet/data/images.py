"""A user's own digit images, made into MNIST digits the way MNIST's digits were made.

MNIST's recipe (LeCun, Cortes and Burges): the ink is fitted, aspect ratio kept and anti-aliased,
into a 20x20 box, and the box is placed in a 28x28 field so that the ink's centre of mass sits at
the field's centre, moved by whole pixels. ``mnist_like`` follows it for an array of pixels:

    any dtype, grey/RGB/RGBA -> grey in [0, 1] -> bright ink on a 0 background, strong ink at 1
    -> cropped to the ink -> longer side 20 (anti-aliased) -> 28x28, centre of mass at (14, 14)

``load_image`` reads one file (PNG, JPEG, BMP, GIF's first frame, TIFF, ... through scikit-image)
and ``load_images`` a folder of them sorted into label folders ``0``-``9``. scikit-image, scipy
and PIL are imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handnet.data.mnist import Dataset
from handnet.errors import DataError

CANVAS = 28
BOX = 20  # the longer side of the ink, as in MNIST
# MNIST's own digits have their centre of mass in [13.5, 14.5] on both axes (mean 14.0), so whole-pixel
# placement at 14 leaves every MNIST digit where it is; the array's geometric centre 13.5 would move half of them
CENTRE = 14.0
MAX_PIXELS = 50_000_000
WORKING_SIDE = 1000  # larger images are block-averaged to about this size before looking for ink
BORDER_FRACTION = 0.02  # the ring of pixels taken as background: 2% of the shorter side, at least 1 pixel
NOISE_MARGIN = 0.05  # brightness differences smaller than this (or 4 noise sigmas) are not ink
MIN_CONTRAST = 0.1  # strong ink must differ from the background by this much of the full range
INK_LEVEL_PERCENTILE = 95  # "strong ink": robust to a few hot pixels, unlike the maximum
INK_THRESHOLD = 0.1  # after normalizing: what counts as ink when cropping (MNIST's faintest edges pass)
SPECK_FRACTION = 0.01  # ink blobs holding less than this share of the ink are specks, left out of the crop
MIN_INK_PIXELS = 6
MIN_INK_SIDE = 4
LABEL_FOLDERS = {str(digit) for digit in range(10)}
IMAGE_FORMATS = "PNG, JPEG, BMP, GIF, TIFF or another common image format"


# ---- one image ---------------------------------------------------------------------------------
def load_image(path) -> np.ndarray:
    """The digit in an image file as MNIST would have it: ``(28, 28)`` float64 in [0, 1], ink bright.

    Reads any common format (the first frame of an animation); RGB becomes grey, transparent
    pixels become background, and dark ink on light paper is inverted. The ink is cropped,
    scaled so its longer side is 20 pixels and centred by its centre of mass (see ``mnist_like``).
    Raises ``DataError`` naming the file when it is missing, empty, not an image, larger than
    50 megapixels, blank, or holds too little ink to be a digit.
    """
    path = Path(path)
    return mnist_like(read_pixels(path), name=str(path))


def read_pixels(path) -> np.ndarray:
    """The pixels of an image file as stored: ``(rows, cols)`` grey, or ``(rows, cols, channels)``
    with 2 (grey, alpha), 3 (RGB) or 4 (RGBA) channels, in the file's own dtype. EXIF rotation is
    applied; of an animation only the first frame is returned."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file (expected a digit image: {IMAGE_FORMATS})")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected an image file (load_images reads a folder of digits)")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file (0 bytes), expected a digit image")
    try:  # so that a file we may not open is not reported as "not an image"
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise DataError(f"{path}: cannot be opened ({e.strerror or e}), expected a readable image file") from None
    header = _header(path)
    if header is not None:
        _check_size(path, *header.size)
    from skimage.io import imread

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # imageio's probing of plugins warns about its own internals
            pixels = imread(path)
    except Exception as e:  # decoders raise anything from OSError to SyntaxError on a damaged file
        if header is None:
            raise DataError(f"{path}: not an image: no decoder recognises its contents; expected {IMAGE_FORMATS}") from None
        raise DataError(f"{path}: damaged {header.format} file: {_one_line(e)}; expected a complete image") from None
    pixels = _first_frame(pixels, header.size if header else None)
    _check_size(path, pixels.shape[1], pixels.shape[0])
    return _orient(pixels, header.orientation if header else 1)


def mnist_like(pixels, name: str = "image") -> np.ndarray:
    """An array of pixels made into an MNIST digit: ``(28, 28)`` float64 in [0, 1], ink bright.

    ``pixels`` is ``(rows, cols)`` grey or ``(rows, cols, 2|3|4)`` grey+alpha, RGB or RGBA, of any
    dtype (integers by their dtype's range; floats in [0, 1], [0, 255] or [0, 65535]). ``name``
    is used in error messages.
    """
    grey = _shrink_large(_grey(np.asarray(pixels), name))
    ink = _bright_ink(grey, name)
    return _strongest_at_one(_centre(_fit_box(*_crop_to_ink(ink, name))))


@dataclass(frozen=True)
class _Header:
    size: tuple[int, int]  # (width, height)
    format: str  # "PNG", "JPEG", ...
    orientation: int  # EXIF orientation, 1 when upright or untagged


def _header(path: Path) -> _Header | None:
    """What the file's header says, read without decoding the pixels; None when PIL does not
    recognise the file (imageio may still read it)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                try:
                    orientation = int(image.getexif().get(0x0112, 1))
                except Exception:  # a damaged EXIF block does not make the picture unreadable
                    orientation = 1
                return _Header(image.size, image.format or path.suffix.lstrip(".").upper(), orientation)
    except Image.DecompressionBombError as e:
        raise DataError(f"{path}: image too large: {_one_line(e)}; expected at most {MAX_PIXELS // 1_000_000} megapixels") from None
    except Exception:  # not a format PIL knows, or a damaged header: the decoder has the last word
        return None


def _check_size(path: Path, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise DataError(
            f"{path}: image is {width}x{height} = {width * height / 1e6:.0f} megapixels; "
            f"expected at most {MAX_PIXELS // 1_000_000} (scale it down first)"
        )


def _first_frame(pixels: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Frame 0 of an animation or stack; a single image unchanged (``size``: the header's (width, height))."""
    if size is not None:
        width, height = size
        if pixels.shape[:2] != (height, width) and pixels.shape[1:3] == (height, width):
            return pixels[0]
        return pixels
    return pixels[0] if pixels.ndim == 4 else pixels


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8): how a camera says the stored pixels are turned."""
    turn = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.swapaxes(a[::-1, ::-1], 0, 1),
        8: lambda a: np.rot90(a, 1),
    }.get(orientation)
    return np.ascontiguousarray(turn(pixels)) if turn else pixels


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


# ---- the steps of mnist_like -------------------------------------------------------------------
def _unit(values: np.ndarray, name: str) -> np.ndarray:
    """Pixel values as float32 in [0, 1]: 8- and 16-bit by their dtype, other numbers by their range."""
    if values.dtype == bool:
        return values.astype(np.float32)
    if values.dtype == np.uint8:
        return values.astype(np.float32) / 255
    if values.dtype == np.uint16:
        return values.astype(np.float32) / 65535
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        raise DataError(f"{name}: pixels of type {values.dtype}, expected numbers")
    values = values.astype(np.float32)
    if not np.isfinite(values).all():
        raise DataError(f"{name}: pixels include NaN or infinity, expected finite brightness values")
    low, high = float(values.min()), float(values.max())
    if low >= 0:
        for full in (1.0, 255.0, 65535.0):
            if high <= full:
                return values / full
    return (values - low) / (high - low)


def _grey(pixels: np.ndarray, name: str) -> np.ndarray:
    """``(rows, cols)`` float32 in [0, 1]: colour made grey, transparency made background."""
    if pixels.ndim == 2:
        return _unit(pixels, name)
    if pixels.ndim != 3 or pixels.shape[2] not in (2, 3, 4) or pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise DataError(
            f"{name}: pixels of shape {pixels.shape}; expected (rows, cols) grey or (rows, cols, 2|3|4) grey+alpha, RGB or RGBA"
        )
    channels = pixels.shape[2]
    colour = _unit(pixels[..., : 3 if channels >= 3 else 1], name)
    if channels >= 3:
        from skimage.color import rgb2gray

        grey = rgb2gray(colour).astype(np.float32)
    else:
        grey = colour[..., 0]
    if channels in (2, 4):
        grey = _composite(grey, _unit(pixels[..., -1], name))
    return grey


def _composite(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Grey composited over the image's background, transparent pixels (alpha 0) being background.

    When the opaque pixels are a minority they are the ink (strokes on a transparent sheet), and
    the background is the opposite of their brightness; otherwise they are a picture with
    transparent margins, and the background is the picture's own median (its paper).
    """
    opaque = alpha > 0.5
    if opaque.all():
        return grey
    if not opaque.any():
        return np.ones_like(grey)  # nothing drawn: blank, and reported as such
    typical = float(np.median(grey[opaque]))
    if opaque.mean() < 0.5:
        background = 1.0 if typical < 0.5 else 0.0
    else:
        background = typical
    return alpha * grey + (1 - alpha) * background


def _shrink_large(grey: np.ndarray) -> np.ndarray:
    """A photo larger than ``WORKING_SIDE`` block-averaged down to about that size."""
    factor = math.ceil(max(grey.shape) / WORKING_SIDE)
    if factor < 2:
        return grey
    from skimage.transform import downscale_local_mean

    # trim to whole blocks: padding would darken the last row and column of light paper
    rows, cols = (s // factor * factor for s in grey.shape)
    return downscale_local_mean(grey[: max(rows, factor), : max(cols, factor)], (factor, factor)).astype(np.float32)


def _bright_ink(grey: np.ndarray, name: str) -> np.ndarray:
    """Ink bright on a 0 background, strong ink at about 1: ``(rows, cols)`` float >= 0.

    The background is the median of the image's border ring. Ink is what differs from it by more
    than the noise; it is dark ink (and is inverted) when the pixels darker than the background
    outweigh those brighter than it.
    """
    ring = max(1, round(BORDER_FRACTION * min(grey.shape)))
    border = np.concatenate([grey[:ring].ravel(), grey[-ring:].ravel(), grey[:, :ring].ravel(), grey[:, -ring:].ravel()])
    background = float(np.median(border))
    noise = 1.4826 * float(np.median(np.abs(border - background)))  # a robust standard deviation
    margin = max(NOISE_MARGIN, 4 * noise)
    dark = float(np.clip(background - grey - margin, 0, None).sum())
    bright = float(np.clip(grey - background - margin, 0, None).sum())
    ink = background - grey if dark > bright else grey - background
    strong = ink[ink > margin]
    if strong.size == 0 or (level := float(np.percentile(strong, INK_LEVEL_PERCENTILE))) < MIN_CONTRAST:
        spread = float(grey.max() - grey.min())
        raise DataError(
            f"{name}: no ink found: brightness varies by only {spread:.3f} around the background {background:.2f}; "
            f"expected a digit that stands out from its background"
        )
    floor = min(3 * noise, level / 2)  # noise left over from the background is cleaned to 0
    # the few pixels above 1 are clipped only at the end, so the centre of mass is the ink's own
    return np.clip((ink - floor) / (level - floor), 0, None)


def _crop_to_ink(ink: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    """The ink's bounding box, with a margin that keeps the faint pixels at its edges, and the
    box's longer side in pixels. Specks of dust or noise are left out of the box."""
    from scipy import ndimage

    blobs, _ = ndimage.label(ink > INK_THRESHOLD, structure=np.ones((3, 3)))
    sizes = np.bincount(blobs.ravel())[1:]
    digit = np.isin(blobs, np.flatnonzero(sizes >= SPECK_FRACTION * sizes.sum()) + 1)
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    n_ink = int(digit.sum())
    side = int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)) if n_ink else 0
    if n_ink < MIN_INK_PIXELS or side < MIN_INK_SIDE:
        raise DataError(
            f"{name}: too little ink for a digit: {n_ink} ink pixels spanning {side} pixels; "
            f"expected at least {MIN_INK_PIXELS} pixels spanning {MIN_INK_SIDE}"
        )
    margin = math.ceil(side / BOX)  # one pixel of the result
    top, left = max(rows[0] - margin, 0), max(cols[0] - margin, 0)
    return ink[top : rows[-1] + 1 + margin, left : cols[-1] + 1 + margin], side


def _fit_box(crop: np.ndarray, side: int) -> np.ndarray:
    """The crop scaled, aspect ratio kept and anti-aliased, so the ink's longer ``side`` becomes
    ``BOX`` pixels (the faint margin around it scales along)."""
    from skimage.transform import downscale_local_mean, resize

    factor = side // (4 * BOX)
    if factor >= 2:  # block-average first: a Gaussian as wide as a large crop's blur would be slow
        crop = downscale_local_mean(crop, (factor, factor))  # pads with 0, which is background
        side = side / factor
    scale = BOX / side
    shape = tuple(max(1, round(s * scale)) for s in crop.shape)
    return resize(crop, shape, order=1, mode="constant", cval=0, anti_aliasing=True, preserve_range=True)


def _centre(digit: np.ndarray) -> np.ndarray:
    """``digit`` pasted into a 28x28 canvas, moved by whole pixels so its centre of mass is
    within half a pixel of (14, 14), as in MNIST."""
    from scipy import ndimage

    row, col = ndimage.center_of_mass(digit)
    top, left = round(CENTRE - row), round(CENTRE - col)
    canvas = np.zeros((CANVAS, CANVAS))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + digit.shape[0], CANVAS), min(left + digit.shape[1], CANVAS)
    canvas[r0:r1, c0:c1] = digit[r0 - top : r1 - top, c0 - left : c1 - left]
    return canvas


def _strongest_at_one(digit: np.ndarray) -> np.ndarray:
    """Clipped to [0, 1], and brightened when scaling thinned the strokes so no pixel reached 1:
    MNIST's strokes always do."""
    digit = np.clip(digit, 0, 1)
    peak = digit.max()
    return digit / peak if peak > 0 else digit


# ---- a folder of labelled images ---------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ImageDataset(Dataset):
    """Digits read from image files: a ``Dataset`` (``images`` (n, 28, 28) uint8 with ink bright,
    ``labels`` (n,) int64, ``X`` (n, 784) float32 in [0, 1]) that also keeps each image's file in
    ``paths`` (n,)."""

    paths: tuple[str, ...] = ()

    def subset(self, index, name: str | None = None) -> ImageDataset:
        kept = tuple(np.asarray(self.paths, dtype=object)[index])
        return ImageDataset(name or self.name, self.images[index], self.labels[index], self.source, kept)


def load_images(folder) -> ImageDataset:
    """Every image in a folder of label folders (``7/my7.png``, ``3/*.jpg``), made into MNIST digits.

    Returns an ``ImageDataset``: ``images`` (n, 28, 28) uint8 (stored like MNIST, so ``X`` is
    (n, 784) float32 in [0, 1]), ``labels`` (n,) int64 from the folder names, and ``paths`` (n,),
    sorted by label and then file name. Hidden files (``.DS_Store``) are skipped; anything else
    that is not a folder named 0-9 holding image files is refused with a ``DataError``.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"{folder}: no such folder (expected subfolders named 0-9 holding digit images)")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected subfolders named 0-9 holding digit images)")
    images, labels, paths = [], [], []
    for entry in _visible(folder):
        if not (entry.is_dir() and entry.name in LABEL_FOLDERS):
            what = "folder" if entry.is_dir() else "file"
            raise DataError(
                f"{folder}: {what} {entry.name!r} is not a label folder; expected only subfolders named 0-9 "
                f"holding that digit's images (e.g. {folder / '7' / 'my7.png'})"
            )
        for file in _visible(entry):
            if file.is_dir():
                raise DataError(f"{file}: a folder inside label folder {entry.name}; expected only image files there")
            images.append(load_image(file))
            labels.append(int(entry.name))
            paths.append(str(file))
    if not images:
        raise DataError(f"{folder}: no images found; expected subfolders named 0-9 holding digit images (e.g. 7/my7.png)")
    pixels = np.round(np.stack(images) * 255).astype(np.uint8)
    return ImageDataset(folder.name, pixels, np.asarray(labels, dtype=np.int64), str(folder), tuple(paths))


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
