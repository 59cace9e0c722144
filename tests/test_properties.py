"""Property tests: any image in gives the promised array out; any labels come back as given."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from skbrain.classifiers import SimpleCNNClassifier
from skbrain.preprocessing import ImageResizer

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

sides = st.integers(1, 300)
out_sizes = st.one_of(st.integers(1, 24), st.tuples(st.integers(1, 24), st.integers(1, 24)))


def _pil_image(mode, height, width, seed):
    rng = np.random.RandomState(seed)
    if mode == "I;16":
        return Image.fromarray(rng.randint(0, 65536, (height, width)).astype(np.uint16))
    if mode == "P":
        return Image.fromarray(rng.randint(0, 256, (height, width, 3), dtype=np.uint8)).convert(
            "P", palette=Image.Palette.ADAPTIVE, colors=16)
    bands = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = rng.randint(0, 256, (height, width, bands), dtype=np.uint8)
    return Image.fromarray(pixels[..., 0] if bands == 1 else pixels, mode=mode)


def _expected_shape(n, size, channels):
    height, width = (size, size) if isinstance(size, int) else size
    return (n, channels, height, width)


def _check(out, shape, dtype="float32"):
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    if dtype == "float32":
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


@SETTINGS
@given(mode=st.sampled_from(["L", "RGB", "RGBA", "P", "I;16"]), height=sides, width=sides,
       size=out_sizes, channels=st.sampled_from([1, 3]), keep_aspect=st.booleans(),
       crop_foreground=st.booleans(), standardize=st.sampled_from([None, "percentile"]),
       seed=st.integers(0, 2**16))
def test_any_pil_image_gives_the_requested_shape_in_unit_range(
    mode, height, width, size, channels, keep_aspect, crop_foreground, standardize, seed
):
    image = _pil_image(mode, height, width, seed)
    before = image.tobytes()
    out = ImageResizer(size, channels=channels, keep_aspect=keep_aspect,
                       crop_foreground=crop_foreground, standardize=standardize).transform([image])
    _check(out, _expected_shape(1, size, channels))
    assert image.tobytes() == before and image.mode == mode


@SETTINGS
@given(dtype=st.sampled_from(["uint8", "uint16", "float32"]), n=st.integers(1, 3),
       height=sides, width=sides, layout=st.sampled_from(["gray", "last", "list"]),
       size=out_sizes, channels=st.sampled_from([1, 3]), out_dtype=st.sampled_from(
           ["float32", "uint8"]), crop_foreground=st.booleans(),
       standardize=st.sampled_from([None, "percentile"]), seed=st.integers(0, 2**16))
def test_any_array_gives_the_requested_shape_dtype_and_range(
    dtype, n, height, width, layout, size, channels, out_dtype, crop_foreground, standardize, seed
):
    rng = np.random.RandomState(seed)
    shape = (n, height, width) if layout == "gray" else (n, height, width, 3)
    if dtype == "float32":
        X = rng.rand(*shape).astype(np.float32)
    else:
        X = rng.randint(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    if layout == "list":
        X = list(X)
    out = ImageResizer(size, channels=channels, dtype=out_dtype, crop_foreground=crop_foreground,
                       standardize=standardize).transform(X)
    _check(out, _expected_shape(n, size, channels), out_dtype)


@SETTINGS
@given(value=st.integers(0, 65535), side=st.integers(1, 40))
def test_sixteen_bit_images_are_scaled_by_their_own_maximum(value, side):
    X = np.full((1, side, side), value, dtype=np.uint16)
    plain = ImageResizer(8, channels=1, crop_foreground=False, standardize=None)
    out = plain.transform(X)
    _check(out, (1, 1, 8, 8))
    # The plain resize scales by the image's own maximum: flat non-zero is white, zero is black.
    assert np.all(out == (1.0 if value else 0.0))


labels = st.one_of(
    st.lists(st.integers(-1000, 1000), min_size=2, max_size=4, unique=True),
    # No NUL characters: numpy's fixed-width strings drop trailing NULs, so
    # "\x00" and "" are one label to numpy (and so to sklearn) already.
    st.lists(st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=5),
             min_size=2, max_size=4, unique=True),
)


@pytest.fixture(scope="module")
def small_images():
    return np.random.RandomState(0).rand(12, 1, 6, 6).astype(np.float32)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(label_set=labels, seed=st.integers(0, 2**16))
def test_labels_come_back_from_the_input_set_and_classes_are_sorted(small_images, label_set,
                                                                    seed):
    rng = np.random.RandomState(seed)
    y = np.array(label_set)[np.r_[np.arange(len(label_set)),
                                  rng.randint(0, len(label_set), 12 - len(label_set))]]
    clf = SimpleCNNClassifier(max_epochs=1, n_kernels=2, batch_size=12, random_state=0,
                              augment=False, lr_schedule=None).fit(small_images, y)
    assert clf.classes_.tolist() == sorted(set(y.tolist()))
    assert clf.classes_.dtype == y.dtype
    predicted = clf.predict(small_images)
    assert set(predicted.tolist()) <= set(label_set) and predicted.dtype == y.dtype
    proba = clf.predict_proba(small_images)
    assert proba.shape == (12, len(label_set))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
