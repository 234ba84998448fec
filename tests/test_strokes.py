import numpy as np
import pytest

from handnet.spec.strokes import Arc, Bezier, Line, Polyline, centroid, ink, length, moved, outside


def test_horizontal_line_inks_its_row():
    img = ink([Line((10, 5), (10, 20))], width=1.0)
    assert img[10, 5:21].min() == 1.0
    assert img[12].max() == 0.0 and img[10, :4].max() == 0.0
    assert img[9, 10] == 0.0  # one pixel away from a 1-pixel stroke


def test_width_controls_thickness():
    thin = ink([Line((14, 4), (14, 24))], width=1.0).sum()
    thick = ink([Line((14, 4), (14, 24))], width=3.0).sum()
    assert thick == pytest.approx(3 * thin, rel=0.15)


def test_full_circle_has_its_circumference_and_hole():
    circle = Arc((14, 14), (6, 6))
    assert length([circle]) == pytest.approx(2 * np.pi * 6, rel=0.01)
    img = ink([circle], width=1.0)
    assert img[14, 14] == 0 and img[8, 14] > 0.9 and img[14, 20] > 0.9


def test_arc_angles_follow_paper_convention():
    # 0..180 degrees is the upper half: 90 points up (smaller row)
    upper = Arc((14, 14), (6, 6), 0, 180).points()
    assert upper[:, 0].max() <= 14 + 1e-9 and upper[:, 0].min() == pytest.approx(8)


def test_rotation_by_90_turns_horizontal_into_vertical():
    line = Line((14, 8), (14, 20))
    turned = moved([line], angle=90)[0]
    assert turned.start[1] == pytest.approx(14) and turned.end[1] == pytest.approx(14)
    assert abs(turned.start[0] - turned.end[0]) == pytest.approx(12)
    assert centroid([turned]) == pytest.approx(centroid([line]))


def test_shift_and_bezier_endpoints():
    b = Bezier(((5, 5), (5, 20), (20, 20)))
    p = b.points()
    assert tuple(p[0]) == (5, 5) and tuple(p[-1]) == (20, 20)
    shifted = moved([b], shift=(1, -2))[0]
    assert shifted.control[0] == (6, 3)
    assert len(Polyline(((1, 1), (1, 5), (5, 5))).points()) > 10


def test_outside_reports_points_off_the_canvas():
    assert outside(Line((2, 2), (2, 25))) == []
    assert outside(Line((2, 2), (2, 30)))


def test_dict_round_trip_for_every_stroke_type():
    from handnet.spec.strokes import from_dict, to_dict

    for s in [Line((1, 2), (3, 4)), Polyline(((1, 1), (2, 2), (3, 1))), Bezier(((1, 1), (5, 9), (9, 1))),
              Arc((14, 14), (5, 3), 10, 200, 30)]:
        assert from_dict(to_dict(s)) == s


def test_edge_template_is_centre_positive_surround_negative_and_balanced():
    from handnet.compiler.templates import edge_template

    t = edge_template([Line((14, 6), (14, 22))], width=2.0, surround=2.0, inhibition=1.0)
    assert t[14, 14] > 0 and t[17, 14] < 0 and t[2, 2] == 0
    assert abs(t.sum()) < 1e-9


def test_distance_map_is_bit_identical_to_a_kd_tree():
    # the oracle is scipy's KD-tree, which distance_map used before it went brute force
    from scipy.spatial import cKDTree

    from handnet.spec.strokes import distance_map, trace

    rng = np.random.default_rng(0)
    drawings = [[Line((10, 5), (10, 20))], [Arc((14, 14), (6, 6))], [Bezier(((3, 3), (20, 4), (25, 25)))],
                [Polyline(((2, 2), (9, 15), (27, 1))), Arc((20, 8), (4, 7), 30, 250)]]
    drawings += [[Line(tuple(rng.uniform(-3, 30, 2)), tuple(rng.uniform(-3, 30, 2)))] for _ in range(20)]
    for strokes in drawings:
        for shape in [(28, 28), (17, 31)]:
            rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
            pixels = np.stack([rows.ravel(), cols.ravel()], axis=1).astype(float)
            expected = cKDTree(trace(strokes)).query(pixels)[0].reshape(shape)
            assert np.array_equal(distance_map(strokes, shape), expected)


def test_to_toml_writes_a_stroke_a_spec_reads_back_rounded_to_half_pixels():
    import tomllib

    from handnet.spec.strokes import Arc, Line, from_dict, to_dict, to_toml

    cases = [(Line((4.2, 8.0), (4.0, 20.3)), Line((4.0, 8.0), (4.0, 20.5))),
             (Arc((10.26, 11.0), (3.5, 3.5), -90.0, 90.0), Arc((10.5, 11.0), (3.5, 3.5), -90.0, 90.0)),
             (Arc((18.0, 14.0), (4.0, 5.1), 180.0, 360.0, 30.0), Arc((18.0, 14.0), (4.0, 5.0), 180.0, 360.0, 30.0))]
    for stroke, rounded in cases:
        text = to_toml(stroke)
        read = from_dict(tomllib.loads(f"s = {text}")["s"])
        assert to_dict(read) == to_dict(rounded), text
    assert to_toml(Arc((1.0, 2.0), (5.0, 5.0), 0.0, 90.0)) == "{ arc = { center = [1, 2], radii = 5, start = 0, end = 90 } }"
