"""ImageResizer(cache_dir=...): the on-disk cache of resized images."""

import numpy as np
import pytest
from PIL import Image

import skbrain._base as base
import skbrain.preprocessing as preprocessing
from skbrain import SimpleCNNClassifier
from skbrain.preprocessing import ImageResizer, clear_image_cache


@pytest.fixture
def folder(tmp_path):
    """Twelve small JPEG and PNG files in two class folders."""
    rng = np.random.default_rng(0)
    paths = []
    for label in ("yes", "no"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(6):
            picture = rng.integers(0, 255, size=(40 + i, 50, 3), dtype=np.uint8)
            path = tmp_path / "data" / label / f"{i}.{'png' if i % 3 == 0 else 'jpg'}"
            Image.fromarray(picture).save(path)
            paths.append(str(path))
    return tmp_path / "data", paths


@pytest.fixture
def reads(monkeypatch):
    """Count the files ImageResizer decodes."""
    calls = []
    real = preprocessing._read_image

    def counting(source, **kwargs):
        calls.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(preprocessing, "_read_image", counting)
    return calls


def _tree(path):
    return sorted((p.relative_to(path), p.stat().st_mtime_ns) for p in path.rglob("*"))


def test_built_once_then_read_back_identical_to_the_uncached_path(folder, tmp_path, reads):
    data, paths = folder
    before = _tree(data)
    plain = ImageResizer(16, dtype="uint8").transform(paths)
    reads.clear()
    cached = ImageResizer(16, dtype="uint8", cache_dir=tmp_path / "cache")
    first = cached.transform(paths)
    assert len(reads) == len(paths)
    reads.clear()
    second = cached.transform(paths)
    assert reads == []
    assert isinstance(second, np.memmap)
    np.testing.assert_array_equal(first, plain)
    np.testing.assert_array_equal(second, plain)
    # A cross-validation fold asks for a subset, in another order: copied, not decoded.
    subset = cached.transform(paths[7:2:-1])
    assert reads == []
    np.testing.assert_array_equal(subset, plain[7:2:-1])
    # float32 output and its normalisation come from the cached pixels too.
    expected = ImageResizer(16, normalize="imagenet").transform(paths)
    reads.clear()
    as_float = ImageResizer(16, normalize="imagenet", cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(as_float.transform(paths), expected)
    assert reads == []
    assert _tree(data) == before  # nothing written into the data folder


def test_changed_content_or_settings_are_decoded_again(folder, tmp_path, reads):
    _, paths = folder
    cache = tmp_path / "cache"
    # The plain resize keeps a flat grey image's value (percentile standardisation would not).
    plain = {"crop_foreground": False, "standardize": None}
    ImageResizer(16, dtype="uint8", cache_dir=cache, **plain).transform(paths)
    edited = np.full((30, 30, 3), 200, dtype=np.uint8)
    Image.fromarray(edited).save(paths[4])
    reads.clear()
    again = ImageResizer(16, dtype="uint8", cache_dir=cache, **plain).transform(paths)
    assert reads == [paths[4]]
    assert (again[4] == 200).all()
    reads.clear()
    ImageResizer(20, dtype="uint8", cache_dir=cache, **plain).transform(paths)
    assert len(reads) == len(paths)
    reads.clear()
    ImageResizer(16, dtype="uint8", cache_dir=cache,
                 **{**plain, "crop_foreground": True}).transform(paths)
    assert len(reads) == len(paths)


def test_the_result_is_read_only_and_the_cache_can_be_cleared(folder, tmp_path, reads):
    _, paths = folder
    cache = tmp_path / "cache"
    resizer = ImageResizer(16, dtype="uint8", cache_dir=cache)
    X = resizer.transform(paths)
    with pytest.raises(ValueError, match="read-only"):
        X[:] = 0
    (cache / "notes.txt").write_text("mine")
    assert clear_image_cache(cache) > X.nbytes
    assert [p.name for p in cache.iterdir()] == ["notes.txt"]
    reads.clear()
    resizer.transform(paths)
    assert len(reads) == len(paths)


def test_a_cache_inside_the_image_folders_is_refused(folder):
    data, paths = folder
    for inside in (data, data / "yes" / "cache"):
        with pytest.raises(ValueError, match="never writes into your data"):
            ImageResizer(16, cache_dir=inside).transform(paths)
    assert not (data / "yes" / "cache").exists()


def test_arrays_and_pil_images_bypass_the_cache(tmp_path):
    images = [np.zeros((20, 20), dtype=np.uint8), Image.new("RGB", (30, 30), "white")]
    X = ImageResizer(8, cache_dir=tmp_path / "cache", standardize=None).transform(images)
    assert X[1].min() == 1.0
    assert not (tmp_path / "cache").exists()


def test_a_classifier_fits_and_predicts_from_the_memory_map(folder, tmp_path, monkeypatch):
    _, paths = folder
    y = np.repeat([1, 0], 6)
    X = ImageResizer(16, dtype="uint8", cache_dir=tmp_path / "cache").transform(paths)
    # Rows are read from the file, not through the mapping (which would stay resident).
    rows_read = []
    real_getitem = base._FileRowsDataset.__getitem__
    monkeypatch.setattr(base._FileRowsDataset, "__getitem__",
                        lambda self, i: rows_read.append(i) or real_getitem(self, i))
    # On the CPU the rows are read in this process (on CUDA, in DataLoader workers).
    clf = SimpleCNNClassifier(max_epochs=1, batch_size=4, random_state=0, device="cpu")
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert sorted(rows_read) == sorted(list(range(12)) * 2)
    in_memory = np.array(X)
    np.testing.assert_allclose(proba, clf.predict_proba(in_memory))
    np.testing.assert_allclose(clf.predict_proba(X[3:9]), proba[3:9])
    reference = SimpleCNNClassifier(max_epochs=1, batch_size=4, random_state=0, device="cpu")
    np.testing.assert_allclose(reference.fit(in_memory, y).predict_proba(in_memory), proba,
                               atol=1e-6)


def test_a_tilde_in_cache_dir_means_the_home_folder(folder, tmp_path, monkeypatch):
    _, paths = folder
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    ImageResizer(8, cache_dir="~/.cache/skbrain").transform(paths[:2])
    assert list((tmp_path / "home" / ".cache" / "skbrain").glob("skbrain-images-*/*.npy"))
    assert not (tmp_path / "~").exists()
    assert clear_image_cache("~/.cache/skbrain") > 0


def test_streamed_rows_survive_pickling_for_dataloader_workers(folder, tmp_path):
    import pickle

    _, paths = folder
    X = ImageResizer(16, dtype="uint8", cache_dir=tmp_path / "cache").transform(paths)
    dataset = base._FileRowsDataset(X[2:], None, *base._mapped_file(X[2:]))
    np.testing.assert_array_equal(dataset[0][0], X[2])
    pickled = pickle.dumps(dataset)
    assert len(pickled) < X[0].nbytes  # the rows are not in it
    copy = pickle.loads(pickled)
    np.testing.assert_array_equal(copy[5][0], X[7])
    assert base._mapped_file(np.array(X)) is None  # an in-memory copy is indexed as usual
