"""Bad inputs get a one-line error naming the argument or file, or documented handling.

Covered elsewhere (not repeated here):

- empty file, non-image bytes with an image name, truncated JPEG, a folder
  where a file is expected, a missing path: ``test_imageio.py::
  test_broken_files_raise_one_line_errors_naming_the_file``;
- decompression bomb: ``test_imageio.py::test_decompression_bomb_limit_stays_on...``;
- 16-bit PNG, CMYK JPEG, EXIF rotation, animated GIF, 1x1 image, big JPEG
  decoded with ``draft``: ``test_imageio.py`` and ``test_preprocessing.py``;
- NaN/inf arrays, wrong rank or channels for ``ImageResizer``:
  ``test_imageio.py``, ``test_preprocessing.py``;
- NaN images, one class, X/y length mismatch, channels-last, channel count
  at predict, file paths given to a classifier, predict before fit:
  ``test_base.py``; three and four classes: ``test_base.py::test_multiclass_labels_work``;
- a model file that is not skbrain's, damaged, or from a newer major format:
  ``test_persistence.py``;
- ``on_error="skip"`` warning once with the list of skipped files:
  ``test_datasets.py::test_unreadable_file_raises_or_is_skipped_with_one_warning``.
"""

import numpy as np
import pytest
from PIL import Image
from sklearn.exceptions import DataConversionWarning

from skbrain.classifiers import SimpleCNNClassifier
from skbrain.datasets import load_brain_mri
from skbrain.exceptions import ImageLoadError
from skbrain.persistence import load_model, save_model
from skbrain.preprocessing import ImageResizer

FAST = {"max_epochs": 1, "n_kernels": 4, "batch_size": 8, "random_state": 0}


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return rng.rand(8, 1, 16, 16).astype(np.float32), np.array([0, 1] * 4)


@pytest.fixture(scope="module")
def fitted(images):
    return SimpleCNNClassifier(**FAST).fit(*images)


@pytest.mark.parametrize(
    "y, match",
    [
        ([0, 1, np.nan, 1, 0, 1, 0, 1], "Input y contains NaN"),
        (np.linspace(0, 1, 8), "Unknown label type: continuous"),
        (np.zeros((8, 2)), r"y should be a 1d array, got an array of shape \(8, 2\)"),
        (None, "SimpleCNNClassifier requires y to be passed"),
    ],
    ids=["nan", "continuous", "two-columns", "none"],
)
def test_bad_labels_are_refused(images, y, match):
    with pytest.raises(ValueError, match=match):
        SimpleCNNClassifier(**FAST).fit(images[0], y)


def test_string_labels_come_back_as_given_and_a_column_is_accepted_with_a_warning(images):
    X, _ = images
    labels = np.array(["no", "yes", "maybe", "yes"] * 2)
    clf = SimpleCNNClassifier(**FAST).fit(X, labels)
    assert clf.classes_.tolist() == ["maybe", "no", "yes"]
    assert clf.predict_proba(X).shape == (8, 3)
    assert set(clf.predict(X)) <= {"maybe", "no", "yes"}
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        SimpleCNNClassifier(**FAST).fit(X, labels[:, None])


@pytest.mark.parametrize(
    "transform, match",
    [
        (lambda X: np.where(X > 0.9, np.inf, X), "Input X contains infinity"),
        (lambda X: X[:, None], r"X must have shape \(n_samples, channels, height, width\); "
                               r"got an array of shape \(8, 1, 1, 16, 16\)"),
        (lambda X: X[:, 0, 0, 0], "Expected 2D array, got 1D array instead"),
        (lambda X: X[:0], r"Found array with 0 sample\(s\)"),
        (lambda X: X.astype(complex), "Complex data not supported"),
        (lambda X: [X[0], X[1, :, :8]], "not file paths or images; put skbrain.ImageResizer"),
    ],
    ids=["inf", "5-D", "1-D", "empty", "complex", "ragged-list"],
)
def test_bad_image_arrays_are_refused(images, transform, match):
    X, y = images
    with pytest.raises(ValueError, match=match):
        SimpleCNNClassifier(**FAST).fit(transform(X), y)


def test_predicting_with_another_channel_count_names_channels(fitted):
    rgb = np.random.RandomState(1).rand(3, 3, 16, 16).astype(np.float32)
    with pytest.raises(ValueError, match=r"X has 3 features, but SimpleCNNClassifier is "
                       r"expecting 1 features.*fitted on 1-channel images and got 3-channel "
                       r"ones; resize with ImageResizer\(\.\.\., channels=1\)"):
        fitted.predict(rgb)


def test_predicting_at_another_image_size_warns(fitted):
    other = np.random.RandomState(1).rand(3, 1, 24, 24).astype(np.float32)
    with pytest.warns(UserWarning, match="images of 24x24 pixels, but SimpleCNNClassifier "
                                         r"was trained on 16x16.*ImageResizer\(size=\(16, 16\)\)"):
        assert fitted.predict(other).shape == (3,)


def test_integer_ranges(images):
    """uint8 is scaled by 1/255 in the network; other integers pass as their values."""
    X, y = images
    as_uint8 = np.round(X * 255).astype(np.uint8)
    clf = SimpleCNNClassifier(**FAST).fit(as_uint8, y)
    np.testing.assert_allclose(
        clf.predict_proba(as_uint8), clf.predict_proba(as_uint8 / np.float32(255)), atol=1e-5
    )
    # ImageResizer scales uint16 stacks by their maximum rather than clipping.
    stack = (X[:, 0] * 4095).astype(np.uint16)
    out = ImageResizer(16, channels=1, crop_foreground=False, standardize=None).transform(stack)
    assert out.dtype == np.float32 and 0 <= out.min() and out.max() == pytest.approx(1.0)
    np.testing.assert_allclose(out[:, 0], stack / stack.reshape(8, -1).max(1)[:, None, None],
                               atol=1 / 255)


def test_a_damaged_dicom_file_is_named(tmp_path):
    scan = tmp_path / "IM0001.dcm"
    scan.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00" * 100)
    with pytest.raises(ImageLoadError, match=r"IM0001\.dcm.*no pixel data"):
        ImageResizer(8).transform([scan])


def test_load_brain_mri_on_a_file_and_a_missing_folder(tmp_path):
    picture = tmp_path / "scan.png"
    Image.new("L", (4, 4)).save(picture)
    with pytest.raises(ValueError, match=r"scan\.png' is not a folder"):
        load_brain_mri(picture)
    with pytest.raises(ValueError, match=r"'.*nope' does not exist; expected a folder"):
        load_brain_mri(tmp_path / "nope")


def test_a_half_written_model_file_is_refused_naming_it(fitted, tmp_path):
    path = tmp_path / "model.skbrain"
    save_model(fitted, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"model\.skbrain' is a damaged skbrain model file "
                                         r"\(truncated or corrupt zip"):
        load_model(path)
