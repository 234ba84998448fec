"""A small hand-built net with the spec compiler's metadata contract, for the look-inside tests.

Edges are edge templates of known strokes; parts read edges with known weights (``reads``);
``metadata["units"]`` holds the strokes and reads the way a compiled spec does.
"""

import numpy as np

from handnet.spec import strokes
from handnet.nn.network import Layer, Network
from handnet.compiler.templates import edge_template

EDGES = {
    "top_bar": [strokes.Line((5.0, 8.0), (5.0, 20.0))],
    "left_bar": [strokes.Line((7.0, 6.0), (20.0, 6.0))],
    "right_bar": [strokes.Line((7.0, 21.0), (20.0, 21.0))],
    "bottom_bar": [strokes.Line((22.0, 8.0), (22.0, 20.0))],
    "slash": [strokes.Line((19.0, 9.0), (8.0, 18.0))],
}
WIDTH = 2.5
PARTS = {
    "box": {"edges:top_bar": 3.0, "edges:left_bar": 3.0, "edges:right_bar": 3.0, "edges:bottom_bar": 3.0,
            "edges:slash": -4.0},
    "corner": {"edges:top_bar": 4.0, "edges:left_bar": 4.0},
}


def hand_net() -> Network:
    names = list(EDGES)
    W1, b1 = [], []
    for name in names:
        template = edge_template(EDGES[name], width=2.0).ravel()
        drawn = strokes.ink(EDGES[name], WIDTH).ravel()
        scale = 8.0 / float(template @ drawn)  # the stroke itself gives w . x = 8
        W1.append(template * scale)
        b1.append(-4.0)
    W2 = np.zeros((len(PARTS), len(names)))
    b2 = np.zeros(len(PARTS))
    for p, reads in enumerate(PARTS.values()):
        for edge, weight in reads.items():
            W2[p, names.index(edge.split(":")[1])] = weight
        b2[p] = -0.5 - sum(w for w in reads.values() if w > 0) + 2.5  # fires when all positive edges do
    W3 = np.zeros((10, len(PARTS)))
    W3[0] = [4.0, 0.0]
    W3[7] = [-1.0, 4.0]
    layers = [
        Layer("edges", np.array(W1), np.array(b1), "sigmoid", tuple(names)),
        Layer("parts", W2, b2, "sigmoid", tuple(PARTS)),
        Layer("digits", W3, np.zeros(10), "softmax", tuple(str(d) for d in range(10))),
    ]
    units = {f"edges:{n}": {"strokes": [strokes.to_dict(s) for s in EDGES[n]], "width": WIDTH} for n in names}
    units.update({f"parts:{p}": {"rule": "soft and", "reads": reads} for p, reads in PARTS.items()})
    return Network(layers, metadata={"provenance": {"kind": "test"}, "units": units})
