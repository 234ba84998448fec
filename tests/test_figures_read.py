"""Every figure reads at the size it is saved: text at least 8 pt, no two labels overlapping, nothing
clipped at the figure's edge (matplotlib's own text boxes, measured after drawing), a title saying
what to look at, and a legend or caption for colours and frames. The default weight colours stay
apart under simulated colour-vision deficiencies (Machado, Oliveira and Fernandes 2009)."""

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from handnet.compare.comparison import compare
from handnet.compiler import compile_spec
from handnet.nn.network import random_network
from handnet.spec import load_spec
from handnet.viz import compare as compare_plots
from handnet.viz import gallery, plots, report, style, tune as tune_plots

ROOT = Path(__file__).resolve().parent.parent
CHEAP = {"restarts": 1, "screen": 2, "screen_steps": 20, "maxiter": 15}  # maximizing only needs to give an image


@pytest.fixture(scope="module")
def nets():
    """The shipped spec's net (long unit names) and an untrained twin of the same shape, with 60 digits."""
    from handnet.data import load_splits

    test = load_splits().test
    pick = np.concatenate([np.flatnonzero(test.y == d)[:6] for d in range(10)])
    hand = compile_spec(load_spec(ROOT / "weight_specs" / "3b1b.toml"))
    twin = random_network(seed=0, activations=["sigmoid", "sigmoid", "softmax"])
    return hand, twin, test.X[pick], test.y[pick], test.subset(pick)


def _inside_figures(net, X, y, prefix):
    figures = dict(gallery.weight_figures(net))
    figures.update(gallery.maximize_figures(net, X=X, k=3, **CHEAP)[0])
    figures["diagram-0"] = gallery.diagram_figure(net, X[0], int(y[0]), index=0)
    figures["diagram-0-unit"] = gallery.diagram_figure(net, X[0], int(y[0]), index=0, unit=str(net.units(1)[7]))
    figures["digits"] = gallery.digit_figure(net, X, y)
    one = str(net.units(1)[3])
    figures["weights-one"] = gallery.weight_figures(net, one)[f"weights-{one.replace(':', '-')}-strip"]
    figures["maximize-one"] = next(iter(gallery.maximize_figures(net, str(net.units(2)[3]), X=X, k=5, **CHEAP)[0].values()))
    figures["digits-one"] = gallery.digit_figure(net, X, y, one, k=20)
    figures.update(gallery.tuning_figures(net)[0])
    figures["tuning-edge-one"] = next(iter(gallery.tuning_figures(net, str(net.units(0)[2]))[0].values()))
    figures["tuning-part-one"] = next(iter(gallery.tuning_figures(net, one)[0].values()))
    return {f"{prefix}-{k}": v for k, v in figures.items()}


def _trained_tuning_figures(rng):
    """The tuning figures of a trained net, whose units are numbers and whose strokes are fitted lines (drawn
    from arrays: finding those lines is slow)."""
    labels = [["all its edges"] + [f"without {e}" for e in (7, 1, 13, 11)] + [f"plus {e} (-)" for e in (14, 15)]
              for _ in range(16)]
    activations = [rng.uniform(0, 1, 7) for _ in range(16)]
    stimuli = [rng.uniform(0, 1, (7, 784)) for _ in range(16)]
    angles, shifts = np.arange(-90, 91, 5.0), np.arange(-6, 6.1, 0.5)
    return {
        "trained-tuning-hidden2": plots.plot_part_tuning(
            [str(u) for u in range(16)], labels, activations, stimuli,
            title="hidden2: does each unit need every edge it reads? (edges from the strongest weights; strokes: "
                  "best-matching lines)"),
        "trained-tuning-hidden1": plots.plot_edge_tuning(
            [str(u) for u in range(16)], angles, rng.uniform(0, 1, (16, angles.size)), shifts,
            rng.uniform(0, 1, (16, shifts.size)), rng.uniform(0, 1, (16, 784)), ["best-matching line"] * 16,
            title="hidden1: is each unit tuned to one stroke at one angle and place?"),
    }


@pytest.fixture(scope="module")
def every_figure(nets):
    """One of each figure handnet draws, from real networks and data, keyed by a name."""
    from handnet.tune.diff import compare_versions
    from handnet.tune.mistakes import analyze_errors
    from handnet.viz.notebook import _first_layer_figure

    hand, twin, X, y, dataset = nets
    # the twin's figures come from the same functions; only its numbers differ (maximizing notes, tuning labels)
    figures = {**_inside_figures(hand, X, y, "hand"), **_trained_tuning_figures(np.random.default_rng(0)),
               **{f"trained-{k}": v for k, v in gallery.maximize_figures(twin, X=X, k=3, **CHEAP)[0].items()}}
    comparison = compare(hand, twin, X, y, names=("hand", "trained"), data="60 test digits")
    figures.update({f"compare-{k}": v for k, v in report.comparison_figures(comparison).items()})
    rungs = [{"label": label, "accuracy_mean": a, "accuracy_min": a - 0.01, "accuracy_max": a + 0.01,
              "edge_likeness_median": e}
             for label, a, e in [("spec", .78, .94), ("calibrated", .71, .94), ("readout", .84, .94),
                                 ("fine-tuned", .93, .59), ("trained", .94, .56)]]
    figures["ladder"] = compare_plots.plot_ladder(rungs)
    curve = [{"epoch": e, "loss": 1 / e, "train_accuracy": 1 - 0.5 / e} for e in range(1, 11)]
    slow = [{"epoch": e, "loss": 2.3 - 0.05 * e, "train_accuracy": 0.1 + 0.03 * e} for e in range(1, 11)]
    figures["memorization"] = compare_plots.plot_memorization({"real": curve, "shuffled": slow, "guessing": 0.1})
    figures["drift"] = compare_plots.plot_drift([str(u) for u in hand.units(0) + hand.units(1)],
                                                np.linspace(0.1, 0.9, 32))
    figures["surgery"] = compare_plots.plot_surgery(
        [{"label": label, "accuracy": a} for label, a in zip(compare_plots.SURGERY_MEANINGS, (.94, .03, .85, .94, .8, .3))])
    figures["report-mosaic"] = compare_plots.plot_template_mosaic(
        hand.layers[0].weights, [f"{u} 0.98" for u in hand.layers[0].units], "hand: edges, maximizing inputs", columns=4)
    edited = hand.replace_layer(1, hand.layers[1].replace(weights=hand.layers[1].weights * np.array([[1.5]] * 3 + [[1.0]] * 13)))
    figures.update({f"diff-{k}": v for k, v in tune_plots.version_figures(compare_versions(hand, edited, dataset),
                                                                          dataset).items()})
    figures.update({f"diff-same-{k}": v for k, v in tune_plots.version_figures(compare_versions(hand, hand, dataset),
                                                                               dataset).items()})
    group = analyze_errors(hand, dataset).groups[0]
    last = group.layers[-1]
    figures["errors"] = tune_plots.plot_error_group(
        dataset.images[group.indices[:8]], list(last.units), last.group, last.correct,
        list(group.contributions) + [group.margin_bias], f"{group.label}: {group.count} digits",
        contribution_units=list(last.units) + ["biases"])
    figures["watch-edge"] = tune_plots.plot_unit(hand.layers[0].weights[2].reshape(28, 28), "edges:upper_right_slope",
                                                 -3.0, X[0].reshape(28, 28))
    figures["watch-part"] = tune_plots.plot_readout(hand.layers[1].weights[2], hand.layers[0].units,
                                                    "parts:upper_right_side", -2.0, X[0].reshape(28, 28))
    values = np.linspace(0.3, 0.8, 11)
    figures["sweep"] = tune_plots.plot_sweep(values, np.linspace(0.6, 0.8, 11),
                                             np.random.default_rng(0).uniform(0.4, 0.9, (11, 10)), 0.5,
                                             "edges.upper_bar.fraction")
    figures["data-thumbnails"] = plots.digit_grid(dataset.images, dataset.labels,
                                                  title=f"{dataset.describe()}: first 10 of each digit")
    figures["notebook"] = _first_layer_figure(hand)
    return figures


@pytest.mark.slow
def test_every_figure_reads_at_its_saved_size(every_figure):
    """At least 8 pt, inside the figure, no overlapping labels: the issue's 5-px captions, the report's
    "upper_right_slopemiddle_left_curve" strip, the clipped "edges:u" and the cut diff title fail here."""
    assert len(every_figure) >= 45
    problems = {name: style.text_problems(fig) for name, fig in every_figure.items()}
    assert {name: p[:3] for name, p in problems.items() if p} == {}


@pytest.mark.slow
def test_every_figure_says_what_to_look_at(every_figure):
    """A title on every figure (a figure with nothing to show says so in its one line); a legend for the
    colours and frames of the figures the issue found unexplained."""
    untitled = [name for name, fig in every_figure.items()
                if not (fig._suptitle is not None and fig._suptitle.get_text())
                and not any(ax.get_title() for ax in fig.axes if ax.get_visible())
                and not (len(fig.axes) == 1 and "(none)" in " ".join(t.get_text() for t in fig.axes[0].texts))]
    assert untitled == []
    for name in ("hand-tuning-parts", "trained-tuning-hidden2", "hand-diagram-0", "ladder", "surgery",
                 "compare-noise"):
        fig = every_figure[name]
        assert fig.legends or any(ax.get_legend() for ax in fig.axes), f"{name}: its colours or frames need a legend"


def test_text_problems_finds_small_overlapping_and_clipped_text():
    """The check itself can fail: the three faults, one at a time, turned sideways too."""
    fig = style.figure(3, 2, layout=None)
    fig.text(0.1, 0.5, "upper_right_slope", fontsize=9)
    fig.text(0.3, 0.5, "middle_left_curve", fontsize=9)
    assert any("overlaps" in p for p in style.text_problems(fig))
    fig = style.figure(3, 2, layout=None)
    fig.text(0.1, 0.5, "z 1.99, at bound", fontsize=5.5)
    assert any("5.5 pt" in p for p in style.text_problems(fig))
    fig = style.figure(3, 2, layout=None)
    fig.text(-0.1, 0.5, "edges:upper_bar", fontsize=9)
    assert any("outside" in p for p in style.text_problems(fig))
    # turned labels: 10 px apart they overlap; 30 px apart they do not, though their upright boxes do
    for gap, overlapping in ((10, True), (30, False)):
        fig = style.figure(3, 3, layout=None)
        for x in (0.3, 0.3 + gap / 300):
            fig.text(x, 0.2, "upper_right_slope", fontsize=9, rotation=60)
        boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in style.drawn_texts(fig)]
        assert boxes[0].overlaps(boxes[1])
        assert any("overlaps" in p for p in style.text_problems(fig)) == overlapping


def test_the_prediction_reads_on_white():
    """The lit-up diagram's "prediction" was gold on white (contrast 1.4:1); text needs at least 4.5:1."""
    from matplotlib.colors import to_rgb

    net = random_network(seed=1)
    fig = gallery.diagram_figure(net, np.random.default_rng(1).uniform(0, 1, 784), 3)
    text = next(t for t in fig.axes[0].texts if t.get_text().startswith("prediction"))

    def luminance(colour):
        c = np.array(to_rgb(colour))
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    assert (1.05) / (luminance(text.get_color()) + 0.05) >= 4.5
    assert (1.05) / (luminance("#b08c00") + 0.05) < 4.5  # the old gold fails the same measure


# ---- colour-vision deficiency: Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB ----------
MACHADO = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab(srgb, deficiency=None):
    """sRGB in [0, 1] -> CIELAB (D65), as seen with ``deficiency`` (simulated on linear RGB)."""
    c = np.asarray(srgb, dtype=float)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if deficiency:
        linear = np.clip(np.array(MACHADO[deficiency]) @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz /= [0.95047, 1.0, 1.08883]
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _sign_contrast(palette, deficiency, magnitude):
    """CIE76 colour difference between a weight of +m and one of -m (m a fraction of the scale)."""
    cmap = style.weight_cmap(palette)
    return float(np.linalg.norm(_lab(cmap(0.5 + magnitude / 2)[:3], deficiency)
                                - _lab(cmap(0.5 - magnitude / 2)[:3], deficiency)))


@pytest.mark.parametrize("deficiency", ["deuteranopia", "protanopia", "tritanopia"])
def test_default_weight_colours_stay_apart_under_colour_blindness(deficiency):
    """Positive and negative weights must not turn the same olive: a difference of 40 (CIE76) at full
    strength and 20 at half is plainly visible; the lesson's red and green fail deuteranopia."""
    assert _sign_contrast("lesson", deficiency, 1.0) > 40
    assert _sign_contrast("lesson", deficiency, 0.5) > 20
    assert _sign_contrast("colorblind", deficiency, 1.0) > 40


def test_the_lessons_red_green_would_fail_the_same_test():
    assert _sign_contrast("red-green", "deuteranopia", 1.0) < 30
    assert _sign_contrast("red-green", None, 1.0) > 100  # fine for full colour vision


def test_default_palette_keeps_the_lessons_look():
    """Green for positive, black at zero, a red-purple (magenta) for negative, named as such in legends."""
    cmap = style.weight_cmap()
    assert cmap(0.5)[:3] == pytest.approx((0, 0, 0), abs=0.01)
    r, g, b = cmap(1.0)[:3]
    assert g > 0.9 and r < 0.3 and b < 0.4
    r, g, b = cmap(0.0)[:3]
    assert r > 0.9 and g < 0.3 and b > 0.5
    assert style.sign_legend() == "green +, magenta -"
    fig = gallery.weight_figures(random_network(seed=0))["weights-hidden1"]
    assert "green +, magenta -" in fig._suptitle.get_text().replace("\n", " ")
    assert isinstance(fig, Figure)
