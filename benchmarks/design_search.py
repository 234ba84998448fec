"""How weight_specs/3b1b.toml was designed: the three searches behind it, rerunnable.

Nothing here runs at build time; it prints TOML fragments that a person reads, names and copies
into the spec. It uses only the bundled training split (4,000 digits), never the dev split.

    PYTHONPATH=. python benchmarks/design_search.py strokes   # ~10 min: where should 16 strokes go?
    PYTHONPATH=. python benchmarks/design_search.py loop      # ~2 s: the lower loop's two arcs
    PYTHONPATH=. python benchmarks/design_search.py digits    # ~15 s: signs and sizes of digit weights

strokes: a few thousand candidate lines and arcs (every position, angle and length on a grid)
become edge templates with the spec's [edges] settings; sixteen are chosen by greedy forward
selection, each step adding the stroke that most improves a 4-fold cross-validated ridge readout,
then one pass that swaps each stroke for a better one if there is one. The spec then rounds the
chosen coordinates to half pixels, names each stroke after where it fires, and widens the
surround (4 px) and lowers the threshold (20% inked) after a comparison of a few settings.

loop: the lower loop's left curve and round bottom. Left halves and bottom halves of circles and
ellipses around the lower half become edges with the spec's [edges] settings; for each kind the
one whose weakest mean activation on 0, 6 and 8 most exceeds its strongest on 1, 7 and 9 wins.
The spec's lower_loop reads those two and middle_right_cup, two of three.

digits: for the parts of 3b1b.toml, each digit's weight on a part may only have the sign of
(mean activation on that digit - mean on the others) when that difference exceeds 0.06, else 0,
except for the lesson's story (STORY below: an 8 is an upper loop plus a lower loop, a 9 an upper
loop without a lower one, ...), whose signs are fixed and whose sizes are at least 1.
Whole-number sizes 0-8 and half-integer biases are then chosen by coordinate ascent on the
softmax log-likelihood of the training split, first keeping what `handnet check` asks of a digit
(dark on a blank canvas, bright on its parts' strokes, dimmer when an inhibiting part is added).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handnet import build  # noqa: E402
from handnet.data.mnist import bundled_splits  # noqa: E402
from handnet.nn.activations import sigmoid  # noqa: E402
from handnet.spec import load_spec  # noqa: E402
from handnet.spec.strokes import Arc, Line, ink, prefix, to_toml  # noqa: E402
from handnet.compiler.templates import edge_template  # noqa: E402


def candidate_strokes() -> list:
    """Lines of 4 lengths at 8 angles on a 2-px grid, and arcs of 3 radii in 45-degree steps."""
    out = []
    for angle in np.arange(0, 180, 22.5):
        for length in (6, 9, 12, 16):
            for r in range(5, 24, 2):
                for c in range(6, 23, 2):
                    dr, dc = -np.sin(np.radians(angle)) * length / 2, np.cos(np.radians(angle)) * length / 2
                    line = Line((r - dr, c - dc), (r + dr, c + dc))
                    if 1 <= min(line.start + line.end) and max(line.start + line.end) <= 26:
                        out.append(line)
    for cr in (8, 10, 12, 14, 16, 18, 20):
        for cc in (11, 13, 15, 17):
            for radius in (3.5, 5, 7):
                for start in range(0, 360, 45):
                    for span in (90, 180, 270, 360):
                        if span == 360 and start:
                            continue
                        arc = Arc((cr, cc), (radius, radius), start, start + span)
                        p = arc.points()
                        if p.min() >= 1 and p.max() <= 26:
                            out.append(arc)
    return out


def search_strokes(n_edges: int = 16) -> None:
    train = bundled_splits()["train"]
    order = np.random.default_rng(0).permutation(len(train))
    X, y = train.X.astype(np.float64)[order], train.y[order]
    strokes = candidate_strokes()
    print(f"{len(strokes)} candidate strokes", file=sys.stderr)

    def activation(stroke):
        w = edge_template([stroke], 4.0, 3.0, 0.7)
        own = float(np.sum(w * ink([stroke], 2.5)))
        return sigmoid(5 * (X @ w.ravel() / own - 0.3))

    F = np.stack([activation(s) for s in strokes], axis=1)
    Y = np.eye(10)[y]
    folds = np.arange(len(y)) % 4

    def score(columns):
        total = 0.0
        Fc = F[:, columns]
        for f in range(4):
            fit, held = folds != f, folds == f
            A, B = np.c_[Fc[fit], np.ones(fit.sum())], np.c_[Fc[held], np.ones(held.sum())]
            W = np.linalg.solve(A.T @ A + 1e-2 * np.eye(A.shape[1]), A.T @ Y[fit])
            total += np.mean((B @ W).argmax(1) == y[held])
        return total / 4

    chosen: list[int] = []
    for step in range(n_edges):
        best = max((score(chosen + [j]), j) for j in range(len(strokes)) if j not in chosen)
        chosen.append(best[1])
        print(f"step {step}: cv accuracy {best[0]:.3f}", file=sys.stderr)
    for i in range(n_edges):
        rest = chosen[:i] + chosen[i + 1:]
        chosen[i] = max((score(rest[:i] + [j] + rest[i:]), j) for j in range(len(strokes)) if j not in rest)[1]
    for i, j in enumerate(chosen):
        print(f"[edges.edge{i}]\nstrokes = [{to_toml(strokes[j])}]")


def search_loop() -> None:
    train = bundled_splits()["train"]
    X, y = train.X.astype(np.float64), train.y

    def activation(arc):  # the spec's [edges] settings: width 4, surround 4, inhibition 0.7, 20% inked
        w = edge_template([arc], 4.0, 4.0, 0.7)
        own = float(np.sum(w * ink([arc], 2.5)))
        theta = float(np.sum(w * ink(prefix([arc], 0.2), 2.5)))
        return sigmoid(5 * (X @ w.ravel() - theta) / own)

    for kind, (start, end) in {"left side": (90, 270), "round bottom": (180, 360)}.items():
        best = None
        for cr in (17, 18, 19, 20):
            for cc in (12, 13, 14, 15):
                for radii in ((3.5, 3.5), (4.5, 4.5), (4, 5), (5, 4), (5.5, 5.5), (4.5, 5.5)):
                    arc = Arc((cr, cc), radii, start, end)
                    if arc.points().min() < 1 or arc.points().max() > 26.5:
                        continue
                    a = activation(arc)
                    mean = [a[y == d].mean() for d in range(10)]
                    score = min(mean[0], mean[6], mean[8]) - max(mean[1], mean[7], mean[9])
                    if best is None or score > best[0]:
                        best = (score, arc)
        print(f"# {kind}: mean on 0, 6, 8 exceeds 1, 7, 9 by at least {best[0]:.2f}\nstrokes = [{to_toml(best[1])}]")


# The lesson's story, as signs the digit weights must have (digit, part) -> +1 / -1: an 8 is an
# upper loop plus a lower loop, a 9 an upper loop with no lower loop, a 6 a lower loop with no
# upper loop, a 0 a ring with both. Parts the spec lacks are skipped.
STORY = {
    (8, "upper_loop"): 1, (8, "lower_loop"): 1,
    (9, "upper_loop"): 1, (9, "lower_loop"): -1,
    (6, "lower_loop"): 1, (6, "upper_loop"): -1,
    (0, "upper_loop"): 1, (0, "lower_loop"): 1,
}


def digit_checks(spec, net, names):
    """What `handnet check` asked of a digit written as weights over parts when 3b1b.toml was
    designed, as a function ``off_spec(w (n_parts,), bias) -> bool``: dark on a blank canvas unless
    the bias is positive, bright on the strokes of every part it weighs positively, and less bright
    when the strokes of a part it weighs negatively are added. (Today's check asks more: an
    inhibitor must lower the score by the spec's inhibit_margin; see docs/spec.md.)"""
    inked = {e.name: ink(e.strokes, e.ink_width, spec.canvas) for e in spec.edges}
    rules = {r.name: r for r in spec.parts}

    def edges_of(part):
        rule = rules[part]
        return list(rule.reads) if rule.source != "any_of" else list(rule.reads[:1])

    cache = {}

    def parts_on(edges):
        key = frozenset(edges)
        if key not in cache:
            image = np.zeros(spec.canvas)
            for e in key:
                image = np.maximum(image, inked[e])
            cache[key] = net.forward(image.reshape(1, -1))[2].astype(float)[0]
        return cache[key]

    def off_spec(w, bias) -> bool:
        if bias <= 0 and w @ parts_on(()) + bias >= 0:
            return True
        pos = [n for n, x in zip(names, w) if x > 0]
        if not pos:
            return False
        need = {e for n in pos for e in edges_of(n)}
        own = w @ parts_on(need) + bias
        if own <= 0:
            return True
        for n, x in zip(names, w):
            if x < 0 and not set(edges_of(n)) <= need and w @ parts_on(need | set(edges_of(n))) + bias >= own:
                return True
        return False

    return off_spec


def search_digits(spec=ROOT / "weight_specs" / "3b1b.toml", sweeps: int = 16) -> None:
    splits = bundled_splits()
    train, test = splits["train"], splits["test"]
    net = build(spec)
    P, Pt = net.forward(train.X)[2].astype(float), net.forward(test.X)[2].astype(float)
    y, names = train.y, list(net.layers[1].units)
    means = np.array([P[y == d].mean(0) for d in range(10)])
    others = np.array([P[y != d].mean(0) for d in range(10)])
    sign = np.where(np.abs(means - others) > 0.06, np.sign(means - others), 0).astype(int)
    fixed = {(d, names.index(part)) for d, part in STORY if part in names}
    for d, j in fixed:
        sign[d, j] = STORY[d, names[j]]
    W, b = sign.astype(float), np.zeros(10)
    off_spec = digit_checks(load_spec(spec), net, names)

    def score():
        """(digits that `handnet check` would fail, -log-likelihood): lower is better."""
        Z = P @ W.T + b
        Z -= Z.max(axis=1, keepdims=True)
        loglik = np.mean(Z[np.arange(len(y)), y] - np.log(np.exp(Z).sum(axis=1)))
        return sum(off_spec(W[d], b[d]) for d in range(10)), -loglik

    best = score()
    for sweep in range(sweeps):
        for d in range(10):
            for j in range(len(names) + 1):
                if j < len(names) and sign[d, j] == 0:
                    continue
                smallest = 1 if (d, j) in fixed else 0
                options = [sign[d, j] * m for m in range(smallest, 9)] if j < len(names) else [x / 2 for x in range(-16, 9)]
                for value in options:
                    old = W[d, j] if j < len(names) else b[d]
                    if j < len(names):
                        W[d, j] = value
                    else:
                        b[d] = value
                    trial = score()
                    if trial[0] < best[0] or (trial[0] == best[0] and trial[1] < best[1] - 1e-9):
                        best = trial
                    elif j < len(names):
                        W[d, j] = old
                    else:
                        b[d] = old
        accuracy = np.mean((Pt @ W.T + b).argmax(1) == test.y)
        print(f"sweep {sweep}: log-likelihood {-best[1]:.4f}, digits off spec {best[0]}, bundled test accuracy "
              f"{accuracy:.3f}", file=sys.stderr)
    for d in range(10):
        terms = [f"{names[j]} = {int(W[d, j])}" for j in np.argsort(-W[d], kind="stable") if W[d, j] != 0]
        print(f"[digits.{d}]\nweights = {{ {', '.join(terms)} }}\nbias = {b[d]:g}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["strokes", "loop", "digits"])
    args = parser.parse_args()
    {"strokes": search_strokes, "loop": search_loop, "digits": search_digits}[args.stage]()
