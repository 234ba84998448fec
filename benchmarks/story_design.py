"""How docs/examples/3b1b-story.toml was designed: the searches behind it, rerunnable.

A third attempt at issue 17 (a 3b1b spec whose middle layer is the lesson's story). Nothing here
runs at build time; each stage prints what a person reads, names and copies into the spec. Only
the bundled training split (4,000 digits) is searched; the bundled test split (1,000) is printed
for orientation; the dev digits are never read.

    PYTHONPATH=. python benchmarks/story_design.py four    # ~3 min: the 4's three lines and their veto
    PYTHONPATH=. python benchmarks/story_design.py edges   # ~2 min: the 12 searched little strokes
    PYTHONPATH=. python benchmarks/story_design.py parts   # ~3 min (reruns edges): what each part combines
    PYTHONPATH=. python benchmarks/story_design.py digits  # ~1-2 min: digit weights under check's cases
    PYTHONPATH=. python benchmarks/story_design.py table --data ../shared/mnist  # parts' firing rates
(CPU times on two shared cores; each stage prints exactly what the spec holds.)

edges: every candidate is a LITTLE stroke: a line 5, 7 or 9 px long at 8 angles on a 2-px grid,
or a quarter circle of radius 3, 4 or 5 px (about 5-8 px of arc), compiled with the spec's own
[edges] settings. Four are fixed first, the 4's three lines and the top of a loop that vetoes
them (FOUR_EDGES; found by `four`, below). The other twelve are added one at a time, each the
candidate that most improves the 4-fold cross-validated accuracy of a ridge readout over the
chosen edges AND all their pairwise products (a stand-in for the parts that will combine them),
among the 60 that most reduce the readout's residual; a stroke that shares more than 35% of its
ink with a chosen one is skipped.

four: the 4 part is "two of: the 4's left stroke, its crossbar, its stem, and no top of a loop".
The three lines are the lines in their region (left and upright; flat at mid height; upright
right of centre) that fire most on 4s against the worst other digit; the veto is the candidate
stroke that, inked, best keeps the part off every other digit (a 9 closes its top; a 4 is open).

parts: soft-logic rules over the 16 edges (one edge; two of two; either of two; one without
another; two of three; three of three) at part sharpness 2. A rule is a candidate only if it
passes `handnet check`'s part cases (simulated here on the spec's own strokes: fires on every k
of its inputs, stays off on every k-1, on a blank canvas and with its veto inked) and is
selective (fires, > 0.5, on at least half of one to four digits and on at most 30% of every
other). The 4 part is fixed; the other fifteen are chosen greedily by the cross-validated
accuracy of a ridge readout over the parts, with at most two that pass a single edge through.

digits: combined_design.search_digits, a logistic readout over the parts fitted under check's
digit cases and rounded, except that a negative weight is dropped only when the digit's own
positive strokes already light that part above 0.75 (LIT); at 0.5 (the earlier rule) the fit drops
more inhibitors and reads 77.9% of the bundled test split instead of 80.4%.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import combined_design as cd  # noqa: E402
from handnet.data.mnist import bundled_splits  # noqa: E402
from handnet.nn.activations import sigmoid  # noqa: E402
from handnet.spec.strokes import Arc, Line, ink, prefix, to_toml  # noqa: E402
from handnet.compiler.templates import edge_template  # noqa: E402

SPEC = ROOT / "docs" / "examples" / "3b1b-story.toml"
EDGE_SHARPNESS, EDGE_FRACTION = 5.0, 0.25  # the spec's [edges] settings (width 4, surround 4, inhibition 0.7)
PART_SHARPNESS = 2.0
LIT = 0.75
# found by `four`: the 4's left stroke, crossbar and stem, and the top-left of a loop (a 9's closed top)
FOUR_EDGES = [Line((15.5, 10.0), (10.5, 8.0)), Line((16.0, 13.5), (14.0, 8.5)), Line((17.5, 16.0), (12.5, 18.0)),
              Arc((5, 15), (3, 3), 180, 270)]
MAX_SINGLE = 2


def candidate_strokes() -> list:
    """Little strokes: lines 5, 7, 9 px at 8 angles on a 2-px grid; quarter circles of radius 3-5 px."""
    out = []
    for angle in np.arange(0, 180, 22.5):
        for length in (5, 7, 9):
            for r in range(3, 26, 2):
                for c in range(3, 26, 2):
                    dr, dc = -np.sin(np.radians(angle)) * length / 2, np.cos(np.radians(angle)) * length / 2
                    line = Line((round((r - dr) * 2) / 2, round((c - dc) * 2) / 2),
                                (round((r + dr) * 2) / 2, round((c + dc) * 2) / 2))
                    if 1 <= min(line.start + line.end) and max(line.start + line.end) <= 26:
                        out.append(line)
    for cr in range(5, 24, 2):
        for cc in range(5, 24, 2):
            for radius in (3, 4, 5):
                for start in range(0, 360, 45):
                    arc = Arc((cr, cc), (radius, radius), start, start + 90)
                    p = arc.points()
                    if p.min() >= 1 and p.max() <= 26:
                        out.append(arc)
    return out


def edge_units(strokes):
    """Each stroke as an edge with the spec's [edges] settings: weights (n, 784) and biases (n,)."""
    rows, biases = [], []
    for s in strokes:
        w = edge_template([s], 4.0, 4.0, 0.7)
        own = float(np.sum(w * ink([s], 2.5)))
        theta = float(np.sum(w * ink(prefix([s], EDGE_FRACTION), 2.5)))
        rows.append(w.ravel() * EDGE_SHARPNESS / own)
        biases.append(-EDGE_SHARPNESS * theta / own)
    return np.array(rows), np.array(biases)


def pool():
    """The candidate strokes (FOUR_EDGES first), their activations on the training split and their ink."""
    strokes = FOUR_EDGES + [s for s in candidate_strokes() if s not in FOUR_EDGES]
    train = bundled_splits()["train"]
    W, b = edge_units(strokes)
    F = sigmoid(train.X.astype(np.float64) @ W.T + b)
    inked = np.array([ink([s], 2.5).ravel() for s in strokes])
    return strokes, F, train.y, inked, (W, b)


def pair_features(E):
    pairs = [E[:, i] * E[:, j] for i, j in itertools.combinations(range(E.shape[1]), 2)]
    return np.c_[E, np.array(pairs).T] if pairs else E


def ridge_cv(M, y, lam=1e-2) -> float:
    A, Y, folds = np.c_[M, np.ones(len(M))], np.eye(10)[y], np.arange(len(y)) % 4
    total = 0.0
    for f in range(4):
        fit, held = folds != f, folds == f
        W = np.linalg.solve(A[fit].T @ A[fit] + lam * np.eye(A.shape[1]), A[fit].T @ Y[fit])
        total += np.mean((A[held] @ W).argmax(1) == y[held])
    return total / 4


def search_edges(n_edges: int = 16, shortlist: int = 60) -> list[int]:
    strokes, F, y, inked, _ = pool()
    Fc, Yc = F - F.mean(0), np.eye(10)[y] - np.eye(10)[y].mean(0)
    share = inked.sum(1)
    chosen = list(range(len(FOUR_EDGES)))
    while len(chosen) < n_edges:
        base = pair_features(F[:, chosen])
        Q, _ = np.linalg.qr(base - base.mean(0))
        R, Fp = Yc - Q @ (Q.T @ Yc), Fc - Q @ (Q.T @ Fc)
        gain = ((Fp.T @ R) ** 2).sum(1) / ((Fp ** 2).sum(0) + 1e-6)  # least-squares gain of each candidate
        apart = [j for j in np.argsort(-gain) if j not in chosen
                 and all(np.minimum(inked[j], inked[k]).sum() <= 0.35 * share[j] for k in chosen)][:shortlist]
        scores = [ridge_cv(pair_features(F[:, chosen + [j]]), y) for j in apart]
        chosen.append(int(apart[int(np.argmax(scores))]))
        print(f"{len(chosen)} edges: cv accuracy {max(scores):.3f}", file=sys.stderr)
    for i, j in enumerate(chosen):
        rates = [np.mean(F[y == d, j] > 0.5) for d in range(10)]
        print(f"[edges.edge{i}]  # fires on " + ", ".join(f"{d}:{r:.2f}" for d, r in enumerate(rates)))
        print(f"strokes = [{to_toml(strokes[j])}]")
    return chosen


# ---- parts -------------------------------------------------------------------------------------
def search_four(shortlist: int = 8):
    """The 4 part's three lines and veto: FOUR_EDGES. For each line, the ``shortlist`` little lines in
    its region that fire most on training 4s against the worst other digit; every triple, "two of
    three" or "all three", with every candidate stroke as the veto; scored by the share of 4s it fires
    on minus the largest share of any other digit, rounded to 0.01, ties to the shortest strokes."""
    from handnet.spec.strokes import length

    strokes = candidate_strokes()
    train = bundled_splits()["train"]
    W, b = edge_units(strokes)
    F, y = sigmoid(train.X.astype(np.float64) @ W.T + b), train.y
    rates = np.array([(F[y == d] > 0.5).mean(0) for d in range(10)])
    lines = [j for j, s in enumerate(strokes) if isinstance(s, Line)]
    cols = lambda s: (s.start[1], s.end[1])  # noqa: E731
    rows = lambda s: (s.start[0], s.end[0])  # noqa: E731
    regions = {  # (row, col) ranges: the 4's left stroke, its crossbar, its stem
        "left": lambda s: abs(np.subtract(*cols(s))) <= 3.5 and max(cols(s)) <= 13 and min(rows(s)) <= 12,
        "bar": lambda s: abs(np.subtract(*rows(s))) <= 2.5 and 12 <= s.start[0] <= 18,
        "stem": lambda s: abs(np.subtract(*cols(s))) <= 3.5 and min(cols(s)) >= 14}
    margin = rates[4] - np.delete(rates, 4, axis=0).max(0)
    short = {k: sorted((j for j in lines if ok(strokes[j])), key=lambda j: -margin[j])[:shortlist]
             for k, ok in regions.items()}
    best = []
    for triple in itertools.product(short["left"], short["bar"], short["stem"]):
        total = F[:, list(triple)].sum(1)
        for k in (2, 3):
            on = sigmoid(PART_SHARPNESS * (total[:, None] - (k - 0.5)) - 2 * PART_SHARPNESS * (3 - k + 0.5) * F) > 0.5
            r = np.array([on[y == d].mean(0) for d in range(10)])
            score = r[4] - np.delete(r, 4, axis=0).max(0)
            v = int(score.argmax())
            size = sum(length([strokes[j]]) for j in triple)
            best.append((-round(float(score[v]), 2), size, k, triple, v, r[:, v]))
    best.sort(key=lambda t: t[:2])
    for score, size, k, triple, v, r in best[:5]:
        print(f"{-score:.2f} ({size:.1f} px) at_least {k} of", [strokes[j] for j in triple], "veto", strokes[v],
              "fires on", " ".join(f"{d}:{x:.2f}" for d, x in enumerate(r)))


def rules_over(n: int):
    out = [("one", i) for i in range(n)]
    for i, j in itertools.combinations(range(n), 2):
        out += [("and", i, j), ("or", i, j)]
    out += [("not", i, j) for i, j in itertools.permutations(range(n), 2)]
    for t in itertools.combinations(range(n), 3):
        out += [("2of3",) + t, ("3of3",) + t]
    return out


def rule_unit(rule, g=PART_SHARPNESS):
    """(weights over the edges used, bias, required inputs, k, veto inputs) as handnet.compiler.logic compiles it."""
    kind, ins = rule[0], list(rule[1:])
    if kind == "not":
        return ins, [g, -2 * g * 0.5], -g * 0.5, ins[:1], 1, ins[1:]
    if kind == "2of3not":
        return ins, [g, g, g, -2 * g * 1.5], -g * 1.5, ins[:3], 2, ins[3:]
    k = {"one": 1, "and": 2, "or": 1, "2of3": 2, "3of3": 3}[kind]
    return ins, [g] * len(ins), -g * (k - 0.5), ins, k, []


def rule_activation(rule, E):
    ins, w, b, *_ = rule_unit(rule)
    return sigmoid(E[:, ins] @ np.array(w) + b)


def passes_check(rule, edge_on) -> bool:
    """`handnet check`'s part cases for ``rule``: ``edge_on(names)`` gives the edges' activations
    on the strokes of the listed edges inked together (a blank canvas for none)."""
    ins, w, b, reads, k, veto = rule_unit(rule)
    unit = lambda drawn: float(sigmoid(edge_on(drawn)[ins] @ np.array(w) + b))  # noqa: E731
    if unit([]) >= 0.5:
        return False
    need = list(reads[:k])
    highs = [list(s) for s in itertools.combinations(reads, k)] + [list(reads)]
    lows = [list(s) for s in itertools.combinations(reads, k - 1)] if k >= 2 else []
    lows += [need + [v] for v in veto]
    return all(unit(s) > 0.5 for s in highs) and all(unit(s) < 0.5 for s in lows)


def search_parts(chosen_edges=None, n_parts: int = 16):
    strokes, F, y, inked, (W, b) = pool()
    if chosen_edges is None:
        chosen_edges = search_edges()
    E = F[:, chosen_edges]
    We, be, ink_e = W[chosen_edges], b[chosen_edges], inked[chosen_edges]

    def edge_on(drawn):
        image = np.max(ink_e[drawn], axis=0) if drawn else np.zeros(784)
        return sigmoid(image @ We.T + be)

    rules = [("2of3not", 0, 1, 2, 3)] + rules_over(len(chosen_edges))
    Q = np.stack([rule_activation(r, E) for r in rules], axis=1)
    rates = np.array([[np.mean(Q[y == d, k] > 0.5) for d in range(10)] for k in range(len(rules))])

    def selective(k) -> bool:
        mine = rates[k] >= 0.5
        return 1 <= mine.sum() <= 4 and rates[k][~mine].max() <= 0.3

    ok = [k for k in range(len(rules)) if selective(k) and passes_check(rules[k], edge_on)]
    print(f"{len(rules)} rules, {len(ok)} selective and passing check", file=sys.stderr)
    chosen = [0]
    while len(chosen) < n_parts:
        singles = sum(rules[k][0] == "one" for k in chosen)
        cand = [k for k in ok if k not in chosen and not (rules[k][0] == "one" and singles >= MAX_SINGLE)]
        scores = [ridge_cv(Q[:, chosen + [k]], y) for k in cand]
        chosen.append(cand[int(np.argmax(scores))])
        print(f"{len(chosen)} parts: cv accuracy {max(scores):.3f}", file=sys.stderr)
    for k in chosen:
        print(rules[k], "fires on", " ".join(f"{d}:{r:.2f}" for d, r in enumerate(rates[k])))
    return chosen_edges, [rules[k] for k in chosen]


def search_digits(spec=SPEC) -> None:
    cd.search_digits(spec, lit=LIT)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["four", "edges", "parts", "digits", "table"])
    parser.add_argument("--data", default=None, help="table only: MNIST directory whose test split is tabled")
    args = parser.parse_args()
    if args.stage == "table":
        cd.selectivity(SPEC, data=args.data)
    else:
        {"four": search_four, "edges": search_edges, "parts": search_parts, "digits": search_digits}[args.stage]()
