"""Datasets: loading class folders, duplicate groups, fetching from mirrors, synthetic slices."""

import csv
import functools
import hashlib
import http.server
import os
import socket
import threading
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skbrain.datasets import (
    _fetch,
    fetch_brain_mri,
    find_duplicate_groups,
    get_data_home,
    load_brain_mri,
    make_synthetic_mri,
)
from skbrain.datasets._duplicates import _group
from skbrain.exceptions import DataNotFoundError, ImageLoadError, SkippedFilesWarning


def _snapshot(folder):
    """Every file under ``folder`` with its size and modification time."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(Path(folder).rglob("*"))
    }


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def synth():
    return make_synthetic_mri(12, image_size=48, random_state=0)


@pytest.fixture
def folder(tmp_path, synth):
    """A Kaggle-like folder: yes/ and no/ with PNG and JPEG files and some clutter."""
    root = tmp_path / "brain"
    for i, (img, label) in enumerate(zip(synth.data, synth.target, strict=True)):
        sub = root / ("yes" if label else "no")
        sub.mkdir(parents=True, exist_ok=True)
        ext = ".png" if i % 2 else ".jpg"
        Image.fromarray(img).save(sub / f"scan {i:02d}{ext}", quality=95)
    (root / "MANIFEST.csv").write_text("relpath\n")
    (root / "SOURCE.md").write_text("# source\n")
    (root / "yes" / "notes.txt").write_text("not an image")
    (root / "yes" / ".hidden.jpg").write_bytes(b"not an image either")
    (root / ".cache").mkdir()
    (root / ".cache" / "x.png").write_bytes(b"")
    (root / "no" / "nested").mkdir()
    return root


# ---------------------------------------------------------------- load_brain_mri


def test_load_returns_sorted_paths_labels_and_groups(folder, synth):
    data = load_brain_mri(folder)
    assert set(data) == {"data", "target", "target_names", "filenames", "groups", "DESCR"}
    n = len(synth.target)
    assert data.data.shape == (n,) and data.data.dtype.kind == "U"
    assert data.target.dtype == np.int64 and data.groups.dtype == np.int64
    assert data.target_names.tolist() == ["no", "yes"]
    assert np.array_equal(data.filenames, data.data)
    assert np.array_equal(np.sort(data.target), np.sort(synth.target))
    rel = [Path(p).relative_to(folder).as_posix() for p in data.data]
    assert rel == sorted(rel, key=lambda r: (r.startswith("yes"), r))
    for path, label in zip(data.data, data.target, strict=True):
        assert os.path.isabs(path)
        assert Path(path).parent.name == data.target_names[label]
    assert len(np.unique(data.groups)) == n
    assert "Kaggle" in data.DESCR and "Chakrabarty" in data.DESCR


def test_return_X_y(folder):
    X, y = load_brain_mri(folder, return_X_y=True)
    data = load_brain_mri(folder)
    assert np.array_equal(X, data.data) and np.array_equal(y, data.target)


def test_loading_never_writes_into_the_folder(folder):
    before = _snapshot(folder)
    load_brain_mri(folder)
    with pytest.warns(SkippedFilesWarning):
        (folder / "no" / "broken.jpg").write_bytes(b"\xff\xd8\xff")
        before = _snapshot(folder)
        load_brain_mri(folder, on_error="skip")
    assert _snapshot(folder) == before


@pytest.mark.parametrize(
    "names, positive, expected_names",
    [
        (["healthy", "Tumor"], "Tumor", ["healthy", "Tumor"]),
        (["YES", "zzz"], "YES", ["zzz", "YES"]),
        (["a", "b"], "b", ["a", "b"]),
    ],
)
def test_class_folder_names_and_the_positive_class(tmp_path, names, positive, expected_names):
    for name in names:
        (tmp_path / name).mkdir()
        Image.new("L", (8, 8), 10 if name == positive else 200).save(tmp_path / name / "x.png")
    data = load_brain_mri(tmp_path)
    assert data.target_names.tolist() == expected_names
    positive_path = data.data[data.target == 1][0]
    assert Path(positive_path).parent.name == positive


def test_more_than_two_classes_are_numbered_in_sorted_order(tmp_path, synth):
    for i, name in enumerate(["meningioma", "glioma", "yes", "no"]):
        (tmp_path / name).mkdir()
        Image.fromarray(synth.data[i]).save(tmp_path / name / "a.png")
    data = load_brain_mri(tmp_path)
    assert data.target_names.tolist() == ["glioma", "meningioma", "no", "yes"]
    assert data.target.tolist() == [0, 1, 2, 3]


def test_missing_empty_and_one_class_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="does-not-exist.*does not exist"):
        load_brain_mri(tmp_path / "does-not-exist")
    (tmp_path / "empty" / "yes").mkdir(parents=True)
    (tmp_path / "empty" / "yes" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="no class sub-folders with images in .*empty"):
        load_brain_mri(tmp_path / "empty")
    (tmp_path / "one" / "yes").mkdir(parents=True)
    Image.new("L", (4, 4)).save(tmp_path / "one" / "yes" / "a.png")
    with pytest.raises(ValueError, match="one.*only one class"):
        load_brain_mri(tmp_path / "one")
    Image.new("L", (4, 4)).save(tmp_path / "a_file.png")
    with pytest.raises(ValueError, match="not a folder"):
        load_brain_mri(tmp_path / "a_file.png")
    with pytest.raises(ValueError, match="on_error"):
        load_brain_mri(tmp_path / "one", on_error="ignore")


def test_unreadable_file_raises_or_is_skipped_with_one_warning(folder):
    (folder / "no" / "empty scan.jpg").write_bytes(b"")
    (folder / "yes" / "junk.png").write_bytes(b"junk" * 20)
    with pytest.raises(ImageLoadError, match="empty scan.jpg"):
        load_brain_mri(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_brain_mri(folder, on_error="skip")
    skipped = [w for w in caught if issubclass(w.category, SkippedFilesWarning)]
    assert len(skipped) == 1
    message = str(skipped[0].message)
    assert "2 unreadable" in message and "empty scan.jpg" in message and "junk.png" in message
    assert not any("empty scan" in p or "junk" in p for p in data.data)
    assert len(data.data) == len(data.groups) == len(data.target)


def test_skipping_down_to_one_class_is_refused(tmp_path):
    (tmp_path / "no").mkdir()
    (tmp_path / "yes").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "no" / "a.png")
    (tmp_path / "yes" / "b.png").write_bytes(b"")
    with pytest.warns(SkippedFilesWarning), pytest.raises(ValueError, match="only one class"):
        load_brain_mri(tmp_path, on_error="skip")


def test_copies_share_a_group(folder, synth):
    src = next((folder / "no").glob("*.png"))
    (folder / "no" / "byte copy.png").write_bytes(src.read_bytes())
    with Image.open(src) as img:
        img.resize((96, 96), Image.Resampling.BICUBIC).save(folder / "no" / "big copy.jpg")
    data = load_brain_mri(folder)
    names = [Path(p).name for p in data.data]
    group = data.groups[names.index(src.name)]
    assert data.groups[names.index("byte copy.png")] == group
    assert data.groups[names.index("big copy.jpg")] == group
    assert len(np.unique(data.groups)) == len(synth.target)


def test_path_none_uses_skbrain_data(folder, monkeypatch):
    monkeypatch.setenv("SKBRAIN_DATA", str(folder))
    assert np.array_equal(load_brain_mri().data, load_brain_mri(folder).data)


def test_get_data_home(tmp_path, monkeypatch):
    assert get_data_home(tmp_path / "x") == tmp_path / "x"
    monkeypatch.setenv("SKBRAIN_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.setenv("SKBRAIN_DATA", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / "skbrain_data" / "brain_mri"
    assert get_data_home("~/mri") == tmp_path / "home" / "mri"
    assert not (tmp_path / "home").exists()


# ---------------------------------------------------------------- find_duplicate_groups


def test_find_duplicate_groups_on_arrays_and_pil_images():
    images = list(make_synthetic_mri(5, image_size=64, random_state=1).data)
    darker = (images[2] * 0.9).astype(np.uint8)
    bigger = Image.fromarray(images[3]).resize((100, 100), Image.Resampling.BICUBIC)
    framed = np.pad(images[4], 12)
    groups = find_duplicate_groups(images + [darker, bigger, framed, images[0]])
    assert groups.tolist() == [0, 1, 2, 3, 4, 2, 3, 4, 0]
    assert groups.dtype == np.int64


def test_threshold_zero_keeps_only_identical_pictures():
    images = list(make_synthetic_mri(3, image_size=64, random_state=2).data)
    noisy = np.clip(images[1] + np.random.default_rng(0).normal(0, 12, images[1].shape), 0, 255)
    groups = find_duplicate_groups(images + [images[1], noisy.astype(np.uint8)], threshold=0)
    assert groups[3] == groups[1] and groups[4] != groups[1]
    assert find_duplicate_groups([], threshold=0).shape == (0,)


def test_find_duplicate_groups_errors(tmp_path):
    with pytest.raises(ValueError, match="threshold"):
        find_duplicate_groups([np.zeros((8, 8), dtype=np.uint8)], threshold=-1)
    with pytest.raises(ImageLoadError, match="gone.png"):
        find_duplicate_groups([tmp_path / "gone.png"])


def test_grouping_thousands_of_hashes_is_vectorised():
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, size=(3000, 2, 4), dtype=np.uint64)
    hashes[2000] = hashes[10]
    hashes[2500, 1] = hashes[20, 1] ^ np.uint64(0b1011)  # 3 bits apart, in one hash only
    start = time.perf_counter()
    groups = _group(hashes, [None] * 3000, 44)
    assert time.perf_counter() - start < 10
    assert groups[2000] == groups[10] and groups[2500] == groups[20]
    assert len(np.unique(groups)) == 2998
    assert np.array_equal(groups[:5], np.arange(5))


# ---------------------------------------------------------------- make_synthetic_mri


def test_synthetic_shapes_types_and_labels():
    data = make_synthetic_mri(50, image_size=40, random_state=0)
    assert data.data.shape == (50, 40, 40) and data.data.dtype == np.uint8
    assert data.masks.shape == (50, 40, 40) and data.masks.dtype == bool
    assert data.target.dtype == np.int64 and data.target.sum() == 25
    assert not np.array_equal(data.target[:25], np.r_[np.ones(25), np.zeros(25)])
    assert data.target_names.tolist() == ["no", "yes"]
    assert "Synthetic" in data.DESCR
    assert make_synthetic_mri(7, image_size=16, random_state=0).target.sum() == 3


def test_synthetic_is_deterministic_for_a_seed():
    a = make_synthetic_mri(20, image_size=32, random_state=3)
    b = make_synthetic_mri(20, image_size=32, random_state=np.random.RandomState(3))
    c = make_synthetic_mri(20, image_size=32, random_state=4)
    assert np.array_equal(a.data, b.data) and np.array_equal(a.masks, b.masks)
    assert np.array_equal(a.target, b.target)
    assert not np.array_equal(a.data, c.data)


@pytest.mark.parametrize("size", [24, 64, 150])
def test_synthetic_blobs_cover_one_to_ten_percent_and_are_bright(size):
    data = make_synthetic_mri(60, image_size=size, random_state=size)
    pos = data.target == 1
    assert not data.masks[~pos].any()
    area = data.masks[pos].mean(axis=(1, 2))
    assert area.min() >= 0.01 and area.max() <= 0.10
    for img, mask in zip(data.data[pos], data.masks[pos], strict=True):
        brain = img[img.shape[0] // 2 - 3 : img.shape[0] // 2 + 3].mean()
        assert img[mask].mean() > brain
    background = data.data[:, :2, :2].mean()
    assert background < 20


def test_synthetic_images_have_a_bright_ring_and_a_dark_background():
    data = make_synthetic_mri(10, image_size=64, random_state=0)
    for img in data.data[data.target == 0]:
        assert img[:3, :3].mean() < 20 and img[16:48, 16:48].mean() > 50
        assert np.percentile(img, 98) > 150  # the skull ring


def test_synthetic_is_fast():
    make_synthetic_mri(2, image_size=16)
    start = time.perf_counter()
    make_synthetic_mri(100, image_size=150, random_state=0)
    assert time.perf_counter() - start < 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_samples": 4, "image_size": 8}, "image_size"),
    ],
)
def test_synthetic_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic_mri(**kwargs)


# ---------------------------------------------------------------- fetch_brain_mri


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def mirror(tmp_path, synth, monkeypatch):
    """A fake mirror of four images served over HTTP, and a manifest listing them."""
    root = tmp_path / "mirror"
    files = {
        "no/1 no.jpeg": synth.data[0],
        "no/N2.JPG": synth.data[1],
        "yes/Y1.jpg": synth.data[2],
        "yes/Y 2.png": synth.data[3],
    }
    entries = []
    for rel, img in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root / rel, format="PNG" if rel.endswith("png") else "JPEG")
        entries.append((rel, _sha(root / rel)))
    monkeypatch.setattr(_fetch, "_read_manifest", lambda: list(entries))
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"url": url, "root": root, "entries": entries, "requests": server.requests}
    server.shutdown()
    server.server_close()


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_fetch_downloads_checks_and_loads(mirror, tmp_path, capsys):
    home = tmp_path / "home"
    data = fetch_brain_mri(home, mirrors=[mirror["url"]])
    for rel, sha in mirror["entries"]:
        assert _sha(home / rel) == sha
    assert sorted(mirror["requests"]) == sorted(
        ["/no/1%20no.jpeg", "/no/N2.JPG", "/yes/Y1.jpg", "/yes/Y%202.png"]
    )
    assert data.data.shape == (4,) and data.target.tolist() == [0, 0, 1, 1]
    assert data.target_names.tolist() == ["no", "yes"]
    assert not [p for p in home.rglob("*") if p.name.startswith(".")]
    assert "4" in capsys.readouterr().err


def test_fetch_rejects_a_download_with_the_wrong_sha(mirror, tmp_path, monkeypatch):
    entries = list(mirror["entries"])
    entries[2] = (entries[2][0], "0" * 64)
    monkeypatch.setattr(_fetch, "_read_manifest", lambda: entries)
    home = tmp_path / "home"
    with pytest.raises(DataNotFoundError, match="yes/Y1.jpg") as info:
        fetch_brain_mri(home, mirrors=[mirror["url"]])
    assert "sha256 mismatch" in str(info.value)
    assert not (home / "yes" / "Y1.jpg").exists()
    assert not [p for p in home.rglob("*") if p.name.startswith(".")]
    assert (home / "no" / "N2.JPG").exists()


def test_fetch_keeps_good_files_and_replaces_corrupt_ones(mirror, tmp_path):
    home = tmp_path / "home"
    for rel, _ in mirror["entries"]:
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_bytes((mirror["root"] / rel).read_bytes())
    (home / "no" / "N2.JPG").write_bytes(b"corrupted")
    (home / "yes" / "Y1.jpg").unlink()
    with pytest.raises(
        DataNotFoundError, match="1 of 4 files .* differ from the expected sha256 .*N2.JPG"
    ):
        fetch_brain_mri(home, mirrors=[mirror["url"]], download_if_missing=False)
    assert mirror["requests"] == []
    mtime = (home / "no" / "1 no.jpeg").stat().st_mtime_ns
    fetch_brain_mri(home, mirrors=[mirror["url"]])
    assert sorted(mirror["requests"]) == ["/no/N2.JPG", "/yes/Y1.jpg"]
    assert _sha(home / "no" / "N2.JPG") == dict(mirror["entries"])["no/N2.JPG"]
    assert (home / "no" / "1 no.jpeg").stat().st_mtime_ns == mtime
    fetch_brain_mri(home, mirrors=[mirror["url"]])
    assert len(mirror["requests"]) == 2


def test_fetch_offline_says_what_is_missing_and_where_to_put_it(mirror, tmp_path):
    home = tmp_path / "home"
    (home / "no").mkdir(parents=True)
    (home / "no" / "N2.JPG").write_bytes((mirror["root"] / "no" / "N2.JPG").read_bytes())
    with pytest.raises(DataNotFoundError) as info:
        fetch_brain_mri(home, download_if_missing=False)
    message = str(info.value)
    assert "3 of 4" in message and "1 no.jpeg" in message
    assert "SKBRAIN_DATA" in message and f"{home}{os.sep}yes{os.sep}" in message
    assert "download_if_missing=False" in message
    assert isinstance(info.value, OSError)


def test_fetch_with_an_unreachable_mirror_fails_fast(mirror, tmp_path):
    start = time.perf_counter()
    with pytest.raises(DataNotFoundError, match="4 of 4.*cannot reach the server"):
        fetch_brain_mri(tmp_path / "home", mirrors=[_closed_port_url()], timeout=5)
    assert time.perf_counter() - start < 5
    assert not (tmp_path / "home").exists()


def test_fetch_falls_back_to_the_next_mirror(mirror, tmp_path):
    empty = tmp_path / "empty_mirror"
    empty.mkdir()
    bad_url = _closed_port_url()
    home = tmp_path / "home"
    data = fetch_brain_mri(home, mirrors=[bad_url, mirror["url"] + "/"])
    assert len(data.data) == 4
    assert len(mirror["requests"]) == 4


def test_fetch_can_read_from_a_file_url(mirror, tmp_path):
    data = fetch_brain_mri(tmp_path / "home", mirrors=[mirror["root"].as_uri()])
    assert len(data.data) == 4


def test_manifest_paths_must_stay_inside_the_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(_fetch, "_read_manifest", lambda: [("../escape.jpg", "0" * 64)])
    with pytest.raises(ValueError, match="escape"):
        fetch_brain_mri(tmp_path, download_if_missing=False)


def test_shipped_manifest_and_default_mirrors():
    entries = _fetch._read_manifest()
    assert len(entries) == 253 and len({rel for rel, _ in entries}) == 253
    assert sum(rel.startswith("yes/") for rel, _ in entries) == 155
    assert all(len(sha) == 64 for _, sha in entries)
    assert all(m.startswith("https://raw.githubusercontent.com/") for m in _fetch.DEFAULT_MIRRORS)
    assert "30470ae8eb2e4a523df7dc45dd5323903cb98365" in _fetch.DEFAULT_MIRRORS[0]
    assert "0d2a3921677e5583f06e64dcfdd67aa920ebd242" in _fetch.DEFAULT_MIRRORS[1]


# ---------------------------------------------------------------- the real images


@pytest.fixture(scope="module")
def real_bunch(real_data):
    before = _snapshot(real_data)
    data = load_brain_mri(real_data)
    assert _snapshot(real_data) == before, "loading changed the data folder"
    return data


def test_real_folder_loads_with_its_classes(real_bunch, real_data):
    assert real_bunch.data.shape == (253,)
    assert (real_bunch.target == 1).sum() == 155 and (real_bunch.target == 0).sum() == 98
    assert real_bunch.target_names.tolist() == ["no", "yes"]
    with open(real_data / "MANIFEST.csv", newline="") as fp:
        manifest = {row["relpath"]: int(row["label"]) for row in csv.DictReader(fp)}
    rel = [Path(p).relative_to(real_data).as_posix() for p in real_bunch.data]
    assert dict(zip(rel, real_bunch.target.tolist(), strict=True)) == manifest


def test_real_byte_identical_files_share_groups_and_no_group_mixes_classes(real_bunch):
    by_sha = defaultdict(list)
    for i, path in enumerate(real_bunch.data):
        by_sha[_sha(path)].append(i)
    identical = [idx for idx in by_sha.values() if len(idx) > 1]
    assert len(identical) == 22 and len(by_sha) == 228
    for idx in identical:
        assert len(set(real_bunch.groups[idx])) == 1
    for g in np.unique(real_bunch.groups):
        assert len(set(real_bunch.target[real_bunch.groups == g])) == 1
    n_groups = len(np.unique(real_bunch.groups))
    assert 195 <= n_groups <= 215


def test_real_study_split_has_near_duplicates_across_it(real_bunch):
    # The split of the original study: every third file (no/ first) is test.
    test = np.arange(253) % 3 == 0
    groups = real_bunch.groups
    leaked = sum(np.isin(groups[i], groups[~test]) for i in np.flatnonzero(test))
    assert test.sum() == 85
    assert 20 <= leaked <= 30


def test_real_load_is_fast(real_data, real_bunch):
    start = time.perf_counter()
    load_brain_mri(real_data)
    assert time.perf_counter() - start < 10


def test_fetch_verifies_the_real_folder_without_downloading(real_data):
    before = _snapshot(real_data)
    data = fetch_brain_mri(real_data, download_if_missing=False, mirrors=[_closed_port_url()])
    assert data.data.shape == (253,)
    assert _snapshot(real_data) == before


def _lgg_like(folder, patients=("TCGA_AA_0001", "TCGA_BB_0002"), n=4):
    """A folder laid out like skbrain's LGG-dev copy: slices 2 and 3 of each patient tumorous."""
    rows = ["relpath,label,patient,slice,tumor_area_px,mask"]
    for patient in patients:
        for number in range(1, n + 1):
            tumor = number in (2, 3)
            name = f"{patient}_{number}.png"
            relpath = f"images/{'tumor' if tumor else 'notumor'}/{name}"
            (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
            image = np.zeros((32, 32), dtype=np.uint8)
            image[:, : 8 * number] = 200  # the head's share of the image grows with the slice
            Image.fromarray(image).save(folder / relpath)
            mask = f"masks/{name}" if tumor else ""
            if tumor:
                (folder / "masks").mkdir(exist_ok=True)
                Image.fromarray(np.full((32, 32), 255, dtype=np.uint8)).save(folder / mask)
            rows.append(f"{relpath},{'tumor' if tumor else 'notumor'},{patient},{number},"
                        f"{100 * number if tumor else 0},{mask}")
    (folder / "MANIFEST.csv").write_text("\n".join(rows) + "\n")


def test_load_lgg_flair_gives_patients_slices_masks_and_head_fractions(tmp_path):
    from skbrain.datasets import load_lgg_flair

    _lgg_like(tmp_path)
    bunch = load_lgg_flair(tmp_path)
    assert bunch.target.tolist() == [0, 1, 1, 0] * 2
    assert bunch.groups.tolist() == [0] * 4 + [1] * 4
    assert bunch.patient.tolist() == ["TCGA_AA_0001"] * 4 + ["TCGA_BB_0002"] * 4
    assert bunch.slice.tolist() == [1, 2, 3, 4] * 2
    assert bunch.tumor_area.tolist() == [0, 200, 300, 0] * 2
    assert [Path(m).name if m else "" for m in bunch.masks[:4]] == [
        "", "TCGA_AA_0001_2.png", "TCGA_AA_0001_3.png", ""]
    assert bunch.head_fraction[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in bunch.data)


def test_head_fraction_reads_a_file_or_takes_its_array(tmp_path):
    from PIL import Image

    from skbrain.datasets import head_fraction

    plane = np.zeros((20, 10), np.uint8)
    plane[:5] = 11
    plane[5:8] = 10  # at the threshold: not head
    Image.fromarray(plane).convert("RGB").save(tmp_path / "slice.png")
    assert head_fraction(plane) == head_fraction(tmp_path / "slice.png") == 0.25
    assert head_fraction(plane, threshold=9) == 0.4
    with pytest.raises(ValueError, match=r"2-D uint8 image, got an array of shape \(20, 10\) "
                                         "and dtype float64"):
        head_fraction(plane.astype(float))


def test_load_lgg_flair_names_what_is_wrong_with_a_folder(tmp_path, monkeypatch):
    from skbrain.datasets import load_lgg_flair

    monkeypatch.delenv("SKBRAIN_DATA_LGG", raising=False)
    with pytest.raises(ValueError, match="SKBRAIN_DATA_LGG"):
        load_lgg_flair()
    with pytest.raises(ValueError, match="has no MANIFEST.csv"):
        load_lgg_flair(tmp_path)
    _lgg_like(tmp_path)
    manifest = tmp_path / "MANIFEST.csv"
    text = manifest.read_text()
    (tmp_path / "images/tumor/TCGA_BB_0002_3.png").unlink()
    with pytest.raises(ValueError, match="1 file.*TCGA_BB_0002_3.png"):
        load_lgg_flair(tmp_path)
    manifest.write_text(text.replace("patient,", "subject,", 1))
    with pytest.raises(ValueError, match="missing \\['patient'\\]"):
        load_lgg_flair(tmp_path)
    # Without a slice column the loader still works; the numbers are -1.
    _lgg_like(tmp_path)
    rows = [line.split(",") for line in manifest.read_text().splitlines()]
    manifest.write_text("\n".join(",".join(r[:3] + r[4:]) for r in rows) + "\n")
    assert load_lgg_flair(tmp_path).slice.tolist() == [-1] * 8
