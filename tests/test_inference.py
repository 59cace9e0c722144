"""predict_images: batches, per-slice and per-scan rows, thresholds."""

import numpy as np
import pytest
from PIL import Image
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import make_pipeline

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.datasets import make_synthetic_mri
from skbrain.inference import predict_images


class CountingResizer(ImageResizer):
    """An ImageResizer that records how many images each call decodes."""

    calls = []

    def transform(self, X):
        CountingResizer.calls.append(len(X))
        return super().transform(X)


@pytest.fixture(scope="module")
def files_and_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inference")
    data = make_synthetic_mri(20, image_size=24, random_state=0)
    paths = []
    for i, image in enumerate(data.data):
        paths.append(str(folder / f"{i:02d}.png"))
        Image.fromarray(image).save(paths[-1])
    model = make_pipeline(CountingResizer(16, channels=1),
                          SimpleCNNClassifier(n_kernels=4, max_epochs=2, random_state=0))
    model.fit(paths, data.target)
    return paths, model


def test_rows_match_predict_proba_and_scans_aggregate(files_and_model):
    paths, model = files_and_model
    expected = model.predict_proba(paths)[:, 1]
    scans = ["a"] * 7 + [None] * 3 + ["b"] * 10
    CountingResizer.calls.clear()
    rows = list(predict_images(model, paths, scans=scans, batch_size=4))
    assert max(CountingResizer.calls) <= 4 and sum(CountingResizer.calls) == 20
    slices = [r for r in rows if r.kind == "slice"]
    np.testing.assert_allclose([r.p_tumor for r in slices], expected, atol=1e-5)
    assert [r.name for r in slices] == paths
    assert [r.label for r in slices] == model.predict(paths).tolist()
    scan_rows = [r for r in rows if r.kind == "scan"]
    assert [(r.name, r.n_slices) for r in scan_rows] == [("a", 7), ("b", 10)]
    assert scan_rows[0].p_tumor == pytest.approx(expected[:7].max())
    # The scan row comes right after its last slice, before the lone images.
    assert rows[7].kind == "scan" and rows[8].name == paths[7]
    mean = [r for r in predict_images(model, paths, scans=scans, aggregate="mean")
            if r.kind == "scan"]
    assert mean[1].p_tumor == pytest.approx(expected[10:].mean())


def test_rows_come_before_all_batches_are_decoded(files_and_model):
    paths, model = files_and_model
    CountingResizer.calls.clear()
    rows = predict_images(model, paths, batch_size=5)
    next(rows)
    assert CountingResizer.calls == [5]
    rows.close()


def test_threshold_wrappers_decide_labels(files_and_model):
    paths, model = files_and_model
    p = model.predict_proba(paths)[:, 1]
    cut = float(np.median(p))
    wrapped = FixedThresholdClassifier(FrozenEstimator(model), threshold=cut,
                                       response_method="predict_proba")
    wrapped.fit(paths, model[-1].classes_[np.arange(len(paths)) % 2])
    rows = list(predict_images(wrapped, paths, scans=["s"] * len(paths), aggregate="mean"))
    assert [r.label for r in rows[:-1]] == wrapped.predict(paths).tolist()
    assert rows[-1].label == int(p.mean() >= cut)


def test_bad_arguments():
    with pytest.raises(ValueError, match="aggregate"):
        next(predict_images(None, [], aggregate="median"))
    with pytest.raises(ValueError, match="batch_size"):
        next(predict_images(None, [], batch_size=0))


def test_progress_bar_counts_images_on_stderr(files_and_model, capsys):
    paths, model = files_and_model
    rows = list(predict_images(model, paths, batch_size=8, progress=True))
    err = capsys.readouterr().err
    assert len(rows) == 20 and "0/20" in err and "img/s" in err


def test_slices_showing_little_head_do_not_count_toward_their_scan(files_and_model, tmp_path):
    from skbrain.datasets import head_fraction

    paths, model = files_and_model
    # A thin slice: a small bright patch on black, as at the top of a head.
    thin = np.zeros((24, 24), dtype=np.uint8)
    thin[10:13, 10:13] = 200
    edge = str(tmp_path / "edge.png")
    Image.fromarray(thin).save(edge)
    assert head_fraction(edge) < 0.15 <= min(head_fraction(p) for p in paths[:4])
    images = paths[:4] + [edge, edge] + [edge]
    scans = ["s"] * 6 + [None]
    expected = model.predict_proba(images)[:, 1]
    rows = list(predict_images(model, images, scans=scans))
    assert [r.counted for r in rows if r.kind == "slice"] == [True] * 4 + [False] * 2 + [True]
    scan = next(r for r in rows if r.kind == "scan")
    assert (scan.n_slices, scan.n_left_out) == (4, 2)
    assert scan.p_tumor == pytest.approx(expected[:4].max())
    every = next(r for r in predict_images(model, images, scans=scans, min_head_fraction=0)
                 if r.kind == "scan")
    assert (every.n_slices, every.n_left_out) == (6, 0)
    assert every.p_tumor == pytest.approx(expected[:6].max())
    # A scan with no slice showing enough head is taken over all its slices, with a warning
    # pointing at the caller; its slice rows then say they counted.
    with pytest.warns(UserWarning, match="no slice shows at least 15% head") as caught:
        rows = list(predict_images(model, [edge, edge], scans=["t", "t"], aggregate="mean"))
    assert caught[0].filename == __file__
    assert [(r.kind, r.counted) for r in rows] == [("slice", True)] * 2 + [("scan", True)]
    assert (rows[-1].n_slices, rows[-1].n_left_out) == (2, 0)
    assert rows[-1].p_tumor == pytest.approx(expected[4:6].mean())


@pytest.mark.parametrize("value", [-0.1, 1, 1.5, "0.2", True])
def test_min_head_fraction_must_be_a_share(value):
    with pytest.raises(ValueError, match="min_head_fraction must be a number in"):
        next(predict_images(None, [], min_head_fraction=value))
