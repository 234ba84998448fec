"""handnet.kept.prune_oldest and code_digest: a cache folder kept to its newest entries, whatever else happens in it."""

import os


from handnet.kept import code_digest, prune_oldest


def stamp(folder, names):
    """Files whose modification times follow ``names``' order (the first is the oldest)."""
    for k, name in enumerate(names):
        path = folder / name
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 + k, 1_000_000 + k))


def test_the_newest_entries_of_the_pattern_are_kept(tmp_path):
    stamp(tmp_path, ["a.npz", "b.npz", "other.txt", "c.npz", "d.npz"])
    prune_oldest(tmp_path, "*.npz", 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz", "d.npz", "other.txt"]
    prune_oldest(tmp_path, "*.npz", 5)  # fewer than the limit: nothing goes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz", "d.npz", "other.txt"]
    os.utime(tmp_path / "c.npz")  # read again just now: the most recently used
    stamp(tmp_path, ["e.npz"])
    os.utime(tmp_path / "c.npz")
    prune_oldest(tmp_path, "*.npz", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz", "other.txt"]
    prune_oldest(tmp_path, "*.npz", 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt"]


def test_an_entry_another_process_removed_first_is_passed_over(tmp_path, monkeypatch):
    prune_oldest(tmp_path / "never-made", "*.npz", 1)  # no folder: nothing to do, no error
    stamp(tmp_path, ["a.npz", "b.npz", "c.npz", "d.npz"])
    unlink = os.unlink

    def raced(path):  # another worker pruned a.npz a moment before this one
        if os.path.basename(path) == "a.npz":
            unlink(path)
            raise FileNotFoundError(path)
        unlink(path)

    monkeypatch.setattr(os, "unlink", raced)
    prune_oldest(tmp_path, "*.npz", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz"]


def test_the_code_digest_changes_with_any_file_its_order_or_a_version(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    base = code_digest([a, b], "2.4")
    assert code_digest([a, b], "2.4") == base and len(base) == 32
    assert code_digest([b, a], "2.4") != base and code_digest([a, b], "2.5") != base
    a.write_text("x = 1 \n")
    assert code_digest([a, b], "2.4") != base
