"""Drawing a spec's own edges as a pen would: the stimuli the oracle tests of shipped and example specs use."""

import numpy as np

from handnet.spec.strokes import ink


def draw_edges(spec, *edges) -> np.ndarray:
    """A ``(1, pixels)`` image with the named edges' strokes inked at each edge's ``ink_width`` (brightest wins)."""
    image = np.zeros(spec.canvas)
    for name in edges:
        edge = next(e for e in spec.edges if e.name == name)
        image = np.maximum(image, ink(edge.strokes, edge.ink_width, spec.canvas))
    return image.reshape(1, -1)
