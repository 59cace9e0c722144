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
