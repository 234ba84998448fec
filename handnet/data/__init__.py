"""Digits: MNIST IDX files, the bundled 5,000-digit sample and its fixed split, fetching the full set,
augmentation for training, and a user's own digit images.

``mnist`` reads and writes IDX files and chooses splits (``load_splits``, ``load_test``,
``load_train``); ``fetch`` downloads MNIST for users who are online; ``augment`` shifts and
rotates training digits; ``images`` makes a user's image files into MNIST digits (``load_image``,
``load_images`` for a folder of label folders 0-9), importing scikit-image only when called.
Uses only ``handnet.errors`` and ``handnet.atomic``.
"""

from handnet.data.images import ImageDataset, load_image, load_images
from handnet.data.mnist import DataSplits, Dataset, load_split, load_splits, load_test, load_train

__all__ = [
    "DataSplits",
    "Dataset",
    "ImageDataset",
    "load_image",
    "load_images",
    "load_split",
    "load_splits",
    "load_test",
    "load_train",
]


def __getattr__(name):  # handnet 0.1's flat module of this name, deprecated
    from handnet._moved import former_attribute

    return former_attribute(__name__, name)
