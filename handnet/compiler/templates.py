"""Edge templates: strokes turned into a 28x28 weight pattern, positive along the stroke and
negative in a band around it (the lesson's recipe for a hand-built edge detector).
"""

from __future__ import annotations

import numpy as np

from handnet.spec.strokes import distance_map


def edge_template(strokes, width: float = 2.0, surround: float = 2.0, inhibition: float = 1.0, shape=(28, 28)):
    """Weights ``shape`` float: +1 on the stroke's ink (``width`` px wide, anti-aliased), and a
    negative band ``surround`` px wide beside it whose total is ``-inhibition`` times the positive
    total. With ``inhibition=1`` the template sums to 0, so a uniformly grey image gives 0.
    """
    d = distance_map(strokes, shape)
    centre = np.clip(width / 2.0 + 0.5 - d, 0.0, 1.0)
    outer = np.clip(width / 2.0 + 0.5 + surround - d, 0.0, 1.0)
    ring = outer - centre
    if surround <= 0 or inhibition == 0 or ring.sum() == 0:
        return centre
    return centre - inhibition * ring * (centre.sum() / ring.sum())
