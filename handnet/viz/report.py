"""The report's layout: one self-contained HTML page (figures embedded as base64 PNG), readable offline.

``write_report(study, folder)`` lays out a ``handnet.compare.study.Study`` (the ladder, the
comparison of the hand-designed net with its trained twin, what each hand unit fires on per digit,
the surgery) with weight grids and maximizing inputs side by side. ``render_report(...)`` lays out any subset of results already
computed; ``comparison_figures`` gives the comparison's figures by name.
"""

from __future__ import annotations

import base64
import html
import io
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from handnet.viz import compare as plots
from handnet.atomic import write_text
from handnet.compare.ladder import _pct, calibration_note, edge_headers, ladder_markdown, ladder_rows
from handnet.compare.edgelike import LITTLE_EDGE_RADIUS, RANDOM_EDGE_LIKENESS, WHITE_NOISE_LITTLE_EDGE
from handnet.compare.verdict import LITTLE_EDGE
from handnet.inside.effective import effective_templates
from handnet.viz.style import sign_legend

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; } th { background: #f3f3f3; }
td, th { text-align: left; } td.num { text-align: right; }
img { max-width: 100%; height: auto; display: block; margin: .8em 0; }
.side { display: flex; gap: 1.5em; flex-wrap: wrap; } .side > div { flex: 1 1 45%; min-width: 300px; }
.note { color: #555; font-size: .9em; }
"""


def figure_data_uri(fig, dpi: int = 100) -> str:
    """A matplotlib Figure as a ``data:image/png;base64,...`` URI (the figure is closed afterwards)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    fig.clf()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def img(fig, alt: str) -> str:
    return f'<img src="{figure_data_uri(fig)}" alt="{html.escape(alt)}">'


def table(header, rows) -> str:
    """An HTML table from a header row and rows of cells (already formatted strings)."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    def cell(c):
        numeric = re.match(r"^[-+]?\d", str(c)) and not re.match(r"^\d+\.\s", str(c))
        return f"<td{' class=num' if numeric else ''}>{html.escape(str(c))}</td>"

    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def comparison_figures(comparison, palette: str = "lesson") -> dict:
    """Figures of a ``compare.Comparison`` by name: confusions, edge_likeness, cka, noise, ablation,
    and matched pairs per hidden layer and criterion (``matched_<layer>_<criterion>``)."""
    a, b = comparison.a, comparison.b
    names = (a.name, b.name)
    figs = {
        "confusions": plots.plot_confusions([a.accuracy.confusion, b.accuracy.confusion], names),
        "cka": plots.plot_cka(comparison.cka_matrix, a.network.layer_names, b.network.layer_names, names,
                              getattr(comparison, "baselines", None) or None),
        "noise": plots.plot_noise({a.name: a.noise, b.name: b.noise}),
        "ablation": plots.plot_ablation({
            p.name: ([u["unit"] for u in p.ablation["units"]], [u["drop"] for u in p.ablation["units"]]) for p in (a, b)
        }),
    }
    groups, colours = {}, {}
    for k, p in enumerate((a, b)):
        for f in p.edges:
            label = f"{p.name} {f.unit.split(':')[0]}"
            groups.setdefault(label, []).append(f.little_edge_score)
            colours[label] = plots.HAND if k == 0 else plots.LEARNED
    claim = next((c for c in getattr(getattr(comparison, "verdict", None), "claims", []) if c.topic == "edge-likeness"),
                 None)
    baselines = ({k: v for k, v in claim.baselines.items() if k != "little edge threshold"} if claim is not None
                 else None)
    figs["edge_likeness"] = plots.plot_edge_likeness(groups, colours, baselines, threshold=LITTLE_EDGE)
    for criterion, matchings in comparison.matchings.items():
        for li, m in enumerate(matchings):
            ta, tb = effective_templates(a.network, li), effective_templates(b.network, li)
            pairs = [
                (i, int(j), float(m.scores[i, j]), pa.split(":")[1], pb.split(":")[1])
                for i, (j, (pa, pb, _)) in enumerate(zip(m.permutation, m.pairs))
            ]
            pairs.sort(key=lambda p: -p[2])
            what = "activation correlation" if criterion == "activation" else "weight cosine"
            layers = (getattr(comparison, "baselines", None) or {}).get("layers") or []
            figs[f"matched_{m.layer_a}_{criterion}"] = plots.plot_matched_pairs(
                ta, tb, pairs, names, f"{m.layer_a} / {m.layer_b} matched on {what} (best first; pixel templates"
                + (", linear approximation)" if li else ")"), palette=palette,
                baseline=layers[li]["matching"][criterion] if li < len(layers) else None,
            )
    if (getattr(comparison, "baselines", None) or {}).get("layers"):
        figs["matching_baselines"] = plots.plot_matching_baselines(comparison.baselines, names)
    return figs


def side_by_side(nets: dict, progress=None, palette: str = "lesson") -> str:
    """Weight grids, maximizing inputs and deeper pixel templates, the nets side by side.

    Weight grids and maximizing inputs come from ``plots`` and ``maximize`` (exact for first-layer
    units; bounded L-BFGS-B for deeper ones). ``progress(1)`` is called after each net's maximizers.
    """
    from handnet.viz import plots as inside_plots
    from handnet.inside.maximize.search import maximize_units

    columns = {name: [] for name in nets}
    for name, net in nets.items():
        for li in range(len(net.layers) - 1):
            layer = net.layers[li]
            if li == 0:
                fig = inside_plots.plot_weight_grid(layer.weights, layer.units, palette,
                                                    title=f"{name}: {layer.name} weights", ncols=4)
            else:
                fig = plots.plot_template_mosaic(effective_templates(net, li), list(layer.units),
                                                 f"{name}: {layer.name}, pixel templates (linear approx.)", columns=4,
                                                 palette=palette)
            columns[name].append(img(fig, f"{name} {layer.name} weights"))
            found = maximize_units(net, net.units(li))
            fig = plots.plot_template_mosaic(np.array([m.image for m in found]),
                                         [f"{u} {m.activation:.2f}" for u, m in zip(layer.units, found)],
                                         f"{name}: {layer.name}, maximizing inputs ({'exact' if li == 0 else 'L-BFGS-B'})",
                                         columns=4, images=True)
            columns[name].append(img(fig, f"{name} {layer.name} maximizing inputs"))
        if progress is not None:
            progress(1)
    cells = "".join(f"<div>{''.join(parts)}</div>" for parts in columns.values())
    return ("<p class='note'>Left and right: the same positions in the two nets. Each maximizing input is the "
            "image in [0, 1]^784 that drives the unit hardest; the number beside its name is the activation it "
            f"reaches.</p><div class='side'>{cells}</div>")


def verdict_block(comparison) -> str:
    """The verdict in words (``handnet.compare.verdict``): one line per claim, with its thresholds."""
    v = getattr(comparison, "verdict", None)
    if v is None:
        return ""
    from handnet.compare.verdict import THRESHOLDS

    items = "".join(f"<li>{html.escape(line)}</li>" for line in v.lines())
    return ("<h3>Verdict</h3><p class='note'>Computed from the numbers below with stated thresholds: a layer of "
            f"little edges has a median little-edge score of at least {THRESHOLDS['little_edge']} (what a drawn "
            "straight stroke clears), the same representation a CKA of at least "
            f"{THRESHOLDS['same_representation_cka']}; a difference whose 95% interval reaches its baseline is within "
            "noise.</p>"
            f"<ul>{items}</ul>")


def comparison_section(comparison, palette: str = "lesson") -> str:
    a, b = comparison.a, comparison.b
    figs = comparison_figures(comparison, palette)
    rows = [["overall", _pct(a.accuracy.accuracy) + f" ({_pct(a.accuracy.interval[0])}-{_pct(a.accuracy.interval[1])})",
             _pct(b.accuracy.accuracy) + f" ({_pct(b.accuracy.interval[0])}-{_pct(b.accuracy.interval[1])})"]]
    scored = comparison.scope.labels if comparison.scope is not None else range(len(a.accuracy.per_digit))
    for d in scored:
        ia, ib = a.accuracy.per_digit_interval[d], b.accuracy.per_digit_interval[d]
        rows.append([f"digit {d}", f"{_pct(a.accuracy.per_digit[d])} ({_pct(ia[0])}-{_pct(ia[1])})",
                     f"{_pct(b.accuracy.per_digit[d])} ({_pct(ib[0])}-{_pct(ib[1])})"])
    refs = (getattr(comparison, "baselines", None) or {}).get("layers") or []

    def reference(m):
        rb = np.asarray(m["random_b"], dtype=float)
        return [f"{rb.mean():.2f} (up to {rb.max():.2f})", "-" if m.get("second") is None else f"{m['second']:.2f}"]

    cka_rows = [[f"{c['layer_a']} / {c['layer_b']}", f"{c['cka']:.2f}"] + (reference(refs[i]["cka"]) if i < len(refs)
                                                                            else ["-", "-"])
                for i, c in enumerate(comparison.cka_layers)]
    match_rows = [[m.layer_a, "activation correlation" if crit == "activation" else "weight cosine", f"{m.mean_score:+.2f}"]
                  + (reference(refs[li]["matching"][crit]) if li < len(refs) else ["-", "-"])
                  for crit, ms in comparison.matchings.items() for li, m in enumerate(ms)]
    noise_rows = [[p.name] + [f"{p.noise[k]['mean_confidence']:.2f}" for k in ("digits", "noise", "blank")]
                  + [" / ".join(_pct(p.noise[k]["fraction_confident"]) for k in ("noise", "ink_noise", "blobs")
                                if k in p.noise)] for p in (a, b)]
    parts = [verdict_block(comparison),
        f"<p class='note'>Test data: {html.escape(comparison.data)}; "
        f"{html.escape(comparison.scope.sentence() if comparison.scope is not None else 'every digit scored')}. "
        "Intervals are 95% Wilson score intervals. "
        f"The two nets give the same answer on {_pct(comparison.agreement)} of the test digits.</p>",
        table(["accuracy", a.name, b.name], rows),
        img(figs.pop("confusions"), "confusion matrices"),
        "<h3>Little edges</h3><p class='note'>Is each hidden unit a little edge? Its little-edge score (deeper units: "
        "their pixel template, a linear approximation) is the share of its weight energy inside the best disc "
        f"{2 * LITTLE_EDGE_RADIUS:.0f} px across, times how much the weights there change across one direction only "
        "(the structure tensor's coherence). 1 = a short straight bar; a blob, a ring or noise score near 0; a curve "
        f"scores less the more it turns. A drawn straight stroke clears {LITTLE_EDGE:.2f} (the dotted line); grey lines "
        f"are weights with no edge in them. The older stroke fit (the best single stroke template's correlation; "
        f"random weights {RANDOM_EDGE_LIKENESS:.2f}) is in the ladder table and the JSON.</p>",
        img(figs.pop("edge_likeness"), "edge-likeness per unit"),
        "<h3>Layer similarity and unit matching</h3><p class='note'>Linear CKA compares how two layers arrange the "
        "test digits (1 = the same arrangement up to rotation and scale, 0 = unrelated). Unit matching pairs each unit "
        "of one net with one of the other (the Hungarian assignment) and averages the paired scores: 1 = every unit "
        "has an identical partner.</p>",
        table(["layers", "linear CKA", "B vs random nets (mean, max)", "B vs a second trained seed"], cka_rows)
        + table(["layer", "matched on", "mean score", "B vs random nets (mean, max)", "B vs a second trained seed"],
                match_rows) + img(figs.pop("cka"), "CKA matrix and its references")
        + (img(figs.pop("matching_baselines"), "unit matching and its references") if "matching_baselines" in figs
           else ""),
    ]
    for name in sorted(k for k in figs if k.startswith("matched_")):
        parts.append(img(figs.pop(name), name.replace("_", " ")))
    parts += [
        "<h3>Noise and blank images</h3><p class='note'>Mean confidence (the brightest output) on real digits, uniform "
        "random noise and an all-black image; the last column is how often a noise image is called a digit with "
        f"confidence at least {a.noise['confident_threshold']}. A network with no idea would give 0.1 to each of the "
        "ten digits; one trained only on digits is rarely that honest.</p>",
        table(["network", "digits", "noise", "blank",
               "called a digit at >= 0.9: uniform noise / noise at the digits' ink / blurred blobs"], noise_rows),
        img(figs.pop("noise"), "confidence on noise"),
        f"<h3>Ablation</h3><p class='note'>Accuracy lost when one hidden unit is silenced (activation set to "
        f"{'0' if a.ablation['mode'] == 'zero' else 'its mean'}), in percentage points of test accuracy: a tall bar is "
        "a unit the network relies on.</p>",
        img(figs.pop("ablation"), "ablation"),
    ]
    return "".join(parts)


def surgery_section(result) -> str:
    rows = [[v["label"], _pct(v["accuracy"]), _pct(v["kept"]), plots.SURGERY_MEANINGS.get(v["label"], "")]
            for v in result.variants]
    note = f" Note: {html.escape(result.note)}." if getattr(result, "note", "") else ""
    units = getattr(result, "units", [])
    unit_rows = [[u.unit, u.hand_unit, f"{u.correlation:+.2f}", f"{u.loss_ablated - u.loss_trained:+.3f}",
                  f"{u.loss_substituted - u.loss_trained:+.3f}", "-" if u.recovered is None else f"{u.recovered:.0%}"]
                 for u in units]
    return (
        f"<p class='note'>Layer {html.escape(result.layer)}: the hand-designed layer put into the trained net, the layers "
        "above refit on the training data, next to the trained layer, a random layer and no layer at all under the same "
        f"refit.{note} Guessing gets {plots.CHANCE:.0%} of digits right. If the hand layer keeps about as much as "
        "the trained one, its edges carry what the network needs; if it keeps no more than the random layer, they "
        "add nothing that any 16 features would not.</p>"
        + table(["variant", "test accuracy", "of trained accuracy", "what it means"], rows)
        + img(plots.plot_surgery(result.variants), "surgery")
        + ("<p class='note'>Unit substitution, nothing retrained: each trained unit replaced by its matched hand unit "
           "(activation correlation r), rescaled by least squares. Loss is the cross-entropy on the test digits, "
           "relative to the trained net; 'recovered' is the share of the loss lost by holding the unit at its mean "
           "that the hand unit wins back.</p>"
           + table(["trained unit", "hand unit", "r", "loss, ablated", "loss, substituted", "recovered"], unit_rows)
           if unit_rows else "")
    )


def ladder_section(ladder) -> str:
    header = ["rung", "weights", "test accuracy"] + edge_headers(ladder)
    drift = ladder.drift
    scored = f"Test digits {ladder.scope.sentence()}. " if getattr(ladder, "scope", None) is not None else ""
    parts = [f"<p class='note'>Spec {html.escape(ladder.spec)}. Data: {html.escape(ladder.data)}. {html.escape(scored)}"
             f"{html.escape(calibration_note(ladder))} Guessing gets {plots.CHANCE:.0%} right. The little-edge score "
             f"is about 0.8 for a short straight bar, {LITTLE_EDGE:.2f} is what a drawn straight stroke clears and "
             f"{WHITE_NOISE_LITTLE_EDGE:.2f} is random weights'; the stroke fit is 1 for exactly a drawn stroke and "
             f"about {RANDOM_EDGE_LIKENESS:.2f} for random weights. Rung 0 is the lesson's story written as a spec "
             "with no data at all (weight_specs/lesson.toml), whatever spec the ladder is for; rung 5b the twin "
             "trained with the lesson's own recipe.</p>",
             table(header, ladder_rows(ladder)),
             img(plots.plot_ladder([r.to_dict() for r in ladder.rungs]), "ladder")]
    if drift:
        parts.append(img(plots.plot_drift([d["unit"] for d in drift], [d["cosine_mean"] for d in drift]), "drift"))
    return "".join(parts)


NOISE_KIND_NAMES = {"digits": "real test digits", "noise": "uniform noise", "ink_noise": "noise at the digits' mean ink",
                    "blobs": "blurred blobs", "maximized": "inputs maximizing each digit output"}


def noise_section(panel: dict) -> str:
    """The lesson's noise test on one scale (``compare.study.noise_panel``)."""
    rows = []
    for name, kinds in panel["networks"].items():
        for kind, st in kinds.items():
            rows.append([name, NOISE_KIND_NAMES.get(kind, kind), str(st["n"]), f"{st['mean_confidence']:.2f}",
                         _pct(st["fraction_confident"]), f"{st['mean_normalized']:.2f}",
                         _pct(st["fraction_confident_normalized"])])
    return (
        "<p class='note'>The lesson's network has sigmoid outputs and a quadratic cost; the twin has a softmax. Raw "
        "confidence is the brightest output; normalized is its share of all outputs (a softmax's own scale), so the "
        "two read on one scale. A net with no idea gives 0.10 normalized; the share of real digits called at >= 0.9 "
        f"is the baseline for every kind of nonsense. The lesson's recipe ran {panel.get('lesson_recipe_epochs', '?')} "
        f"epochs, seed {panel['seed']}; noise and maximizing inputs are seeded ({panel['seed']}).</p>"
        + table(["network", "images", "n", "mean raw confidence", "raw >= 0.9", "mean normalized", "normalized >= 0.9"],
                rows)
    )


def memorization_section(memo: dict) -> str:
    last = {k: memo[k][-1] if memo[k] else {} for k in ("real", "shuffled")}
    first_real = memo["real"][0]["train_accuracy"] if memo["real"] else float("nan")
    test = memo["test_accuracy"]
    return (
        f"<p class='note'>The twin's recipe without augmentation or weight decay ({memo['epochs']} epochs, seed "
        f"{memo['seed']}) on the training digits, and on the same digits "
        f"with their labels shuffled (seed {memo['seed']}; {memo['own_label_share']:.0%} keep their own label). "
        f"With real labels it reaches {_pct(first_real)} training accuracy after one epoch and "
        f"{_pct(last['real'].get('train_accuracy', float('nan')))} after the last; with shuffled labels "
        f"{_pct(last['shuffled'].get('train_accuracy', float('nan')))} after {len(memo['shuffled'])} epochs, against "
        f"{_pct(memo['guessing'])} for guessing. On the test digits: {_pct(test['real'])} (real) and "
        f"{_pct(test['shuffled'])} (shuffled): what is memorized does not carry to new digits. Training accuracy is "
        "measured on the mini-batches as they were trained on.</p>"
        + img(plots.plot_memorization(memo), "memorization: real vs shuffled labels")
    )


def selectivity_section(table) -> str:
    """A ``handnet.inside.selectivity.Selectivity`` as one compact table: a row per unit, its firing rate
    per digit shaded by size, * on the digits its spec names, ! on those it wrongly fires on."""
    head = "".join(f"<th>{d}</th>" for d in table.digits)
    rows = []
    for u in table.units:
        cells = []
        for d in table.digits:
            r = u.rates[d]
            if r is None:
                cells.append("<td class=num>-</td>")
                continue
            mark = "*" if u.named and d in u.named else "!" if d in u.wrong else ""
            shade = f"background: rgba(43, 140, 190, {0.75 * r:.2f})"
            cells.append(f"<td class=num style='{shade}'>{100 * r:.0f}{mark}</td>")
        meant = "-" if u.named is None else (", ".join(map(str, u.named)) or "none")
        wrong = ", ".join(map(str, u.wrong)) or ("" if u.named is None else "none")
        rows.append(f"<tr><td>{html.escape(u.unit)}</td><td class=num>{100 * u.overall:.0f}</td>{''.join(cells)}"
                    f"<td>{html.escape(meant)}</td><td>{html.escape(wrong)}</td></tr>")
    counts = "".join(f"<td class=num>{table.counts[d]}</td>" for d in table.digits)
    return (f"<p class='note'>How often each of the hand net's hidden units fires on each digit of the test data "
            f"({html.escape(table.data)}), in percent: {html.escape(table.meaning())} A unit built to detect a "
            "piece of some digits should stand out in their columns and stay near 0 elsewhere. 'meant for' comes "
            "from the spec (its digits field, else the digits its doc names). The same table: "
            "<code>handnet explain SPEC parts --digits</code>; the images behind a ! mark: add <code>-o "
            "wrong.png</code>.</p>"
            f"<table><thead><tr><th>unit</th><th>all</th>{head}<th>meant for</th><th>wrongly fires on</th></tr>"
            f"</thead><tbody><tr><td>(images)</td><td class=num>{sum(table.counts[d] for d in table.digits)}</td>"
            f"{counts}<td></td><td></td></tr>{''.join(rows)}</tbody></table>")


def render_report(title: str, intro: str = "", ladder=None, comparison=None, surgery=None, nets: dict | None = None,
                  progress=None, palette: str = "lesson", memorization: dict | None = None,
                  noise: dict | None = None, selectivity=None, jobs: int | None = 1) -> str:
    """The HTML page from results already computed; every part is optional (``nets``: name -> Network
    for the side-by-side pictures, whose maximizers are computed here). ``jobs`` processes draw the
    sections (``compare.parallel``; None: the available cores): the same page as ``jobs=1``."""
    sections = []  # (heading, section, arguments)
    if ladder is not None:
        sections.append(("The ladder: from hand-set to learned", "ladder", (ladder,)))
    if comparison is not None:
        sections.append((f"{comparison.a.name} vs {comparison.b.name}", "comparison", (comparison, palette)))
    if selectivity is not None:
        sections.append(("What each hand unit fires on, digit by digit", "selectivity", (selectivity,)))
    if surgery is not None:
        sections.append(("Surgery: the hand layer inside the trained net", "surgery", (surgery,)))
    if noise:
        sections.append(("The lesson's noise test, on one scale", "noise", (noise,)))
    if memorization:
        sections.append(("Memorization: real against shuffled labels", "memorization", (memorization,)))
    if nets:
        sections.append(("Inside: weights and maximizing inputs side by side", "side_by_side", (nets, None, palette)))
    if (jobs is None or jobs > 1) and len(sections) > 1:
        from handnet.compare.parallel import run_all

        # the sections are independent figures of finished results: one worker each, largest first
        order = sorted(range(len(sections)), key=lambda i: SECTION_WEIGHT.get(sections[i][1], 1), reverse=True)
        drawn = run_all(_section_task, [sections[i][1:] for i in order], None, jobs)
        contents = [None] * len(sections)
        for i, content in zip(order, drawn):
            contents[i] = content
        for _ in nets or ():
            if progress is not None:
                progress(1)
    else:
        contents = [side_by_side(nets, progress, palette) if name == "side_by_side" else _section_task(None, (name, args))
                    for _, name, args in sections]
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for (h, _, _), content in zip(sections, contents))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{intro}</p>{body}"
        f"<p class='note'>Made by handnet on {stamp}. Weight pictures: {sign_legend(palette)}, dark near zero.</p>"
        "</body></html>"
    )


SECTION_WEIGHT = {"comparison": 4, "side_by_side": 2, "ladder": 2}  # about how long each takes to draw


def _section_task(shared, task) -> str:
    """One section's HTML (a task of ``compare.parallel.run_all``): ``task`` is ``(section, arguments)``."""
    name, args = task
    return {"ladder": ladder_section, "comparison": comparison_section, "selectivity": selectivity_section,
            "surgery": surgery_section, "noise": noise_section, "memorization": memorization_section,
            "side_by_side": side_by_side}[name](*args)


def write_report(study, output_dir, progress=None, palette: str = "lesson", jobs: int | None = 1) -> Path:
    """Lay out a ``compare.study.Study`` as ``output_dir/index.html`` (and the ladder as
    ``output_dir/ladder.md``), atomically. Returns the page's path. ``progress(1)`` is called after
    each network's maximizers. ``jobs`` processes draw the page's sections (see ``render_report``)."""
    hand, twin = study.hand, study.twin
    intro = (
        f"The spec <code>{html.escape(str(study.spec_path))}</code> compiled to a {'-'.join(map(str, hand.sizes))} network, "
        "next to a network of the same shape trained by gradient descent. Does the trained net learn edges, then loops "
        f"and lines? Data: {html.escape(study.data)}."
    )
    page = render_report(f"handnet report: {Path(study.spec_path).stem}", intro, study.ladder, study.comparison,
                         study.surgery, {"hand": hand, "trained": twin}, progress, palette,
                         getattr(study, "memorization", None), getattr(study, "noise", None),
                         getattr(study, "selectivity", None), jobs=jobs)
    out = Path(output_dir)
    write_text(out / "index.html", page)
    write_text(out / "ladder.md", ladder_markdown(study.ladder) + "\n")
    table = getattr(study, "selectivity", None)
    if table is not None:
        write_text(out / "selectivity.md", f"{table.meaning()}\n\nData: {table.data}.\n\n{table.markdown()}\n")
    return out / "index.html"


def report_steps(seeds: int) -> int:
    """Progress steps of ``run_study`` and ``write_report`` together."""
    from handnet.compare.study import study_steps

    return study_steps(seeds) + 2
