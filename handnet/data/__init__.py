"""Digits: MNIST IDX files, the bundled 5,000-digit sample and its fixed split, fetching the full set,
and augmentation for training.

``mnist`` reads and writes IDX files and chooses splits (``load_splits``, ``load_test``,
``load_train``); ``fetch`` downloads MNIST for users who are online; ``augment`` shifts and
rotates training digits. Uses only ``handnet.errors`` and ``handnet.atomic``.
"""

from handnet.data.mnist import DataSplits, Dataset, load_split, load_splits, load_test, load_train

__all__ = ["DataSplits", "Dataset", "load_split", "load_splits", "load_test", "load_train"]


def __getattr__(name):  # handnet 0.1's flat module of this name, deprecated
    from handnet._moved import former_attribute

    return former_attribute(__name__, name)
