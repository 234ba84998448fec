"""Comparing networks: handcrafted against learned, with intervals and baselines.

``metrics`` holds accuracy with Wilson intervals; ``similarity`` CKA and unit matching;
``edgelike`` how well a unit is explained by one drawn stroke; ``comparison`` the side-by-side
profile of two networks; ``ladder`` the rungs from every weight by hand to every weight learned;
``surgery`` swapping layers between nets; ``study`` the ladder, comparison and surgery that a
report shows, computed once. Uses ``handnet.inside``, ``handnet.compiler``, ``handnet.nn`` and
below; never ``viz``.
"""

from handnet.compare.comparison import Comparison, compare

__all__ = ["Comparison", "compare"]


def __getattr__(name):  # handnet 0.1's flat module of this name, deprecated
    from handnet._moved import former_attribute

    return former_attribute(__name__, name)
