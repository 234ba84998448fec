"""Figures: one symmetric colour scale, the right panels and titles, headless."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from handnet.inside import maximize as mx
from handnet.viz import gallery, plots
from handnet.nn.network import random_network
from inside_nets import hand_net


def images_of(fig):
    return [im for ax in fig.axes for im in ax.get_images()]


def tiles_of(fig):
    """The pictures of a grid figure drawn as one mosaic (``plots.tile_grid``), in order."""
    (im,) = [im for im in images_of(fig) if hasattr(im, "tile_boxes")]
    canvas = np.asarray(im.get_array())
    return [canvas[top : top + h, left : left + w] for top, left, h, w in im.tile_boxes]


def tile_labels(fig):
    (ax,) = [ax for ax in fig.axes if any(hasattr(im, "tile_boxes") for im in ax.get_images())]
    return [t.get_text() for t in ax.texts]


def colour_scale(fig):
    """The (cmap, norm) of a figure's one colour bar."""
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    mappable = bar._colorbar.mappable
    return mappable.cmap, mappable.norm


def test_weight_grid_shares_one_symmetric_colour_scale(rng):
    weights = rng.normal(size=(6, 784)) * np.arange(1, 7)[:, None]
    weights[2, 5] = 40.0  # one large positive weight sets the scale for everyone
    fig = plots.plot_weight_grid(weights, [f"u{i}" for i in range(6)])
    assert isinstance(fig, Figure)
    cmap, norm = colour_scale(fig)
    assert norm.vmin == -norm.vmax == -40.0
    # one mosaic image: each tile is its unit's weights through the one shared scale
    tiles = tiles_of(fig)
    assert len(tiles) == 6 and len(images_of(fig)) == 1
    for tile, w in zip(tiles, weights):
        np.testing.assert_allclose(tile, cmap(norm(w.reshape(28, 28))))
    assert tile_labels(fig) == [f"u{i}" for i in range(6)]
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
    # zero is black, positive green, negative red (the lesson's picture)
    assert cmap(0.5)[:3] == pytest.approx((0, 0, 0), abs=0.01)
    r, g, _ = cmap(1.0)[:3]
    assert g > 0.9 and r < 0.3
    r, g, _ = cmap(0.0)[:3]
    assert r > 0.9 and g < 0.3


def test_colorblind_palette_and_bad_palette():
    fig = plots.plot_weight_grid(np.ones((1, 784)) * [[-1.0] * 392 + [1.0] * 392], ["a"], palette="colorblind")
    cmap, _ = colour_scale(fig)
    r, g, b = cmap(1.0)[:3]
    assert b > r  # blue for positive, not green
    with pytest.raises(ValueError, match="palette"):
        plots.plot_weight_grid(np.ones((1, 784)), ["a"], palette="rainbow")


def test_strip_labels_rows_and_columns_and_is_symmetric():
    w = np.array([[1.0, -3.0, 0.5], [0.0, 2.0, -1.0]])
    fig = plots.plot_strip(w, ["box", "corner"], ["top", "left", "right"], biases=[-1, 2])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["top", "left", "right"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["box", "corner"]
    im = ax.get_images()[0]
    assert im.norm.vmin == -im.norm.vmax == -3.0


def test_weight_figures_for_a_hand_net():
    net = hand_net()
    figs = gallery.weight_figures(net)
    assert set(figs) == {"weights-edges", "weights-parts-strip", "weights-parts-templates",
                         "weights-digits-strip", "weights-digits-templates"}
    assert tile_labels(figs["weights-edges"]) == ["top_bar", "left_bar", "right_bar", "bottom_bar", "slash"]
    assert "linear approximation" in figs["weights-parts-templates"]._suptitle.get_text().replace("\n", " ")
    one = gallery.weight_figures(net, "parts:box")
    assert set(one) == {"weights-parts-box-strip", "weights-parts-box-templates"}


def test_effective_template_is_the_weight_product():
    from handnet.inside.effective import effective_templates

    net = hand_net()
    np.testing.assert_allclose(effective_templates(net, "parts"), net.layers[1].weights @ net.layers[0].weights)
    np.testing.assert_allclose(effective_templates(net, 0), net.layers[0].weights)


def test_maximizer_figure_has_one_column_per_unit_and_k_digits():
    net = hand_net()
    X = np.random.default_rng(0).uniform(0, 1, size=(30, 784))
    figs, results = gallery.maximize_figures(net, X=X, k=3)
    fig = figs["maximize-edges"]
    assert len(results) == 5 + 2 + 10
    # one mosaic image: every optimized image and each unit's top 3 digits is a tile of it
    (mosaic,) = images_of(fig)
    pixels = np.ma.filled(mosaic.get_array(), np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(pixels, (28, 28))

    def tiles_of(image):
        return int(np.sum(np.all(windows == np.asarray(image, dtype=float).reshape(28, 28), axis=(2, 3))))

    edges = [r for r in results if r.unit.startswith("edges:")]
    assert all(tiles_of(r.image) >= 1 for r in edges)
    for r in edges:
        for i in mx.top_activating(net, r.unit, X, k=3)[0]:
            assert tiles_of(X[i]) >= 1  # two units may share a top digit
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0].startswith("top_bar")
    assert sum(t in ("optimized", "top 1", "top 2", "top 3") for t in texts) == 4
    assert len(texts) == 5 * (1 + 3) + 4


def test_diagram_highlights_the_prediction():
    net = random_network(seed=1)
    image = np.random.default_rng(1).uniform(0, 1, 784)
    fig = gallery.diagram_figure(net, image, label=3, top_k=2)
    predicted = int(net.predict(image[None])[0])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"prediction: {predicted}" in texts
    circles = [p for p in fig.axes[0].patches]
    assert len(circles) == 16 + 16 + 10
    # shaded by activation: a unit's grey level is its activation
    acts = np.concatenate([a[0] for a in net.forward(image[None])[1:]])
    np.testing.assert_allclose([c.get_facecolor()[0] for c in circles], acts, atol=1e-6)


def test_tuning_and_digit_figures():
    net = hand_net()
    figs, results = gallery.tuning_figures(net, "edges:slash")
    assert list(figs) == ["tuning-edges-slash"]
    figs, _ = gallery.tuning_figures(net, "parts:box")
    assert len(tiles_of(figs["tuning-parts-box"])) == 6 and len(images_of(figs["tuning-parts-box"])) == 1
    X = np.random.default_rng(0).uniform(0, 1, size=(24, 784))
    y = np.sort(np.arange(24) % 10)  # sorted by label, as the bundled test split is
    fig = gallery.digit_figure(net, X, y, count=20)
    shown = tiles_of(fig)
    assert len(shown) == 20 and len(images_of(fig)) == 1  # one mosaic, not 20 Axes
    # two of each digit, one digit per column: row r holds the r-th example of 0-9
    expected = np.concatenate([np.flatnonzero(y == d)[:2] for d in range(10)]).reshape(10, 2).T.ravel()
    for tile, i in zip(shown, expected):
        np.testing.assert_allclose(tile[..., 0], X[i].reshape(28, 28))
        assert np.all(tile[..., 3] == 1)
    assert len(tiles_of(gallery.digit_figure(net, X, y, count=5))) == 5
    fig = gallery.digit_figure(net, X, y, unit="parts:box", k=4)
    assert len(tiles_of(fig)) == 4
