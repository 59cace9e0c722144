"""ImageResizer: every input form, every option, sklearn behaviour and the real images."""

import pickle

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skbrain.datasets import load_brain_mri, make_synthetic_mri
from skbrain.exceptions import ImageLoadError
from skbrain.preprocessing import ImageResizer

# The plain resize: most tests here check geometry and pixel values, which the default head
# crop and percentile standardisation would change (they have tests of their own below).
PLAIN = {"crop_foreground": False, "standardize": None}


@pytest.fixture
def mixed_images(tmp_path):
    """Paths, PIL images and arrays of different sizes and modes."""
    Image.new("RGB", (300, 200), (255, 0, 0)).save(tmp_path / "red.jpg", quality=95)
    Image.new("L", (50, 70), 128).save(tmp_path / "gray one.png")
    return [
        str(tmp_path / "red.jpg"),
        tmp_path / "gray one.png",
        Image.new("RGBA", (20, 20), (0, 0, 255, 255)),
        np.zeros((33, 17), dtype=np.uint8),
        np.ones((40, 40, 3)),
    ]


def test_mixed_inputs_give_float32_in_unit_range(mixed_images):
    X = ImageResizer(24, **PLAIN).transform(mixed_images)
    assert X.shape == (5, 3, 24, 24) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1
    np.testing.assert_allclose(X[0].mean(axis=(1, 2)), [1, 0, 0], atol=0.03)
    np.testing.assert_allclose(X[1], 128 / 255, atol=1e-6)
    np.testing.assert_allclose(X[2].mean(axis=(1, 2)), [0, 0, 1], atol=1e-6)
    assert X[3].max() == 0 and X[4].min() == 1


def test_grayscale_is_repeated_over_three_channels_and_colour_reduced_to_one(mixed_images):
    X3 = ImageResizer(16, **PLAIN).transform(mixed_images)
    assert np.array_equal(X3[1, 0], X3[1, 1]) and np.array_equal(X3[1, 0], X3[1, 2])
    X1 = ImageResizer(16, channels=1, **PLAIN).transform(mixed_images)
    assert X1.shape == (5, 1, 16, 16)
    # ITU-R 601-2 luma of pure red is 0.299.
    np.testing.assert_allclose(X1[0].mean(), 0.299, atol=0.02)


def test_gray_picture_saved_as_colour_jpeg_gives_the_same_pixels(tmp_path):
    yy, xx = np.mgrid[0:200, 0:240]
    gray = ((xx + yy) % 256).astype(np.uint8)
    Image.fromarray(np.stack([gray] * 3, axis=-1)).save(tmp_path / "g.jpg", quality=90)
    X = ImageResizer(32, dtype="uint8", **PLAIN).transform([tmp_path / "g.jpg"])
    assert np.array_equal(X[0, 0], X[0, 1]) and np.array_equal(X[0, 0], X[0, 2])
    with Image.open(tmp_path / "g.jpg") as img:
        assert img.mode == "RGB"
        img.draft("RGB", (32, 32))
        ref = np.asarray(img.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR))
    assert np.abs(X[0].transpose(1, 2, 0).astype(int) - ref).max() <= 1


def test_size_pair_is_height_then_width(mixed_images):
    assert ImageResizer((12, 20)).transform(mixed_images).shape == (5, 3, 12, 20)


def test_keep_aspect_letterboxes_in_black_and_centres():
    wide = np.full((50, 100), 255, dtype=np.uint8)
    tall = np.full((90, 30), 255, dtype=np.uint8)
    X = ImageResizer(32, keep_aspect=True, channels=1, dtype="uint8",
                     **PLAIN).transform([wide, tall])
    rows = X[0, 0].max(axis=1)
    assert (rows[:8] == 0).all() and (rows[8:24] == 255).all() and (rows[24:] == 0).all()
    cols = X[1, 0].max(axis=0)
    assert cols.sum() // 255 in (10, 11) and cols[16] == 255 and cols[0] == cols[-1] == 0
    stretched = ImageResizer(32, channels=1, dtype="uint8", **PLAIN).transform([wide])
    assert (stretched == 255).all()


def test_uint8_output_matches_float_output(mixed_images):
    X8 = ImageResizer(20, dtype="uint8").transform(mixed_images)
    Xf = ImageResizer(20).transform(mixed_images)
    assert X8.dtype == np.uint8 and X8.shape == Xf.shape
    np.testing.assert_allclose(X8 / 255, Xf, atol=1e-6)
    assert ImageResizer(20, dtype=np.uint8).transform(mixed_images).dtype == np.uint8


def test_imagenet_and_custom_normalisation(mixed_images):
    plain = ImageResizer(16).transform(mixed_images)
    X = ImageResizer(16, normalize="imagenet").transform(mixed_images)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(X, (plain - mean) / std, rtol=1e-5, atol=1e-5)
    gray = ImageResizer(16, channels=1, normalize="imagenet").transform(mixed_images)
    plain1 = ImageResizer(16, channels=1).transform(mixed_images)
    np.testing.assert_allclose(gray, (plain1 - 0.449) / 0.226, rtol=1e-5, atol=1e-5)
    custom = ImageResizer(16, normalize=(0.5, [0.5, 0.25, 1.0])).transform(mixed_images)
    np.testing.assert_allclose(custom[:, 1], (plain[:, 1] - 0.5) / 0.25, rtol=1e-5, atol=1e-5)
    assert X.dtype == np.float32


def test_stacked_arrays_in_every_layout():
    data = make_synthetic_mri(4, image_size=40, random_state=0).data
    ref = ImageResizer(20, **PLAIN).transform(list(data))
    np.testing.assert_array_equal(ImageResizer(20, **PLAIN).transform(data), ref)
    np.testing.assert_array_equal(ImageResizer(20, **PLAIN).transform(data[..., None]), ref)
    rgb = np.repeat(data[..., None], 3, axis=-1)
    np.testing.assert_array_equal(ImageResizer(20, **PLAIN).transform(rgb), ref)
    # Channels-first, as ImageResizer itself returns, is accepted too.
    again = ImageResizer(20, **PLAIN).transform(ImageResizer(40, **PLAIN).transform(data))
    np.testing.assert_allclose(again, ref, atol=1 / 255 + 1e-6)


def test_one_dimensional_path_array_and_column_of_paths(tmp_path):
    for i in range(3):
        Image.new("L", (10, 10), 50 * i).save(tmp_path / f"{i}.png")
    paths = np.array([str(tmp_path / f"{i}.png") for i in range(3)])
    X = ImageResizer(8, **PLAIN).transform(paths)
    np.testing.assert_allclose(X[:, 0, 0, 0], [0, 50 / 255, 100 / 255], atol=1e-6)
    np.testing.assert_array_equal(ImageResizer(8, **PLAIN).transform(paths[:, None]), X)


def test_empty_input_gives_an_empty_batch():
    assert ImageResizer(8).transform([]).shape == (0, 3, 8, 8)


@pytest.mark.parametrize(
    "X, match",
    [
        ("one/path.jpg", "not a single str"),
        (np.zeros((10, 10)), "stack of images"),
        (np.zeros((2, 3, 4, 5, 6)), "stack of images"),
        (12, "list of images"),
        (np.array([["a", "b"], ["c", "d"]]), "1-D"),
    ],
)
def test_malformed_inputs_are_refused(X, match):
    with pytest.raises(ValueError, match=match):
        ImageResizer(8).transform(X)


def test_errors_name_the_file_or_the_index(tmp_path):
    (tmp_path / "bad scan.jpg").write_bytes(b"garbage")
    good = np.zeros((5, 5), dtype=np.uint8)
    with pytest.raises(ImageLoadError, match="bad scan.jpg"):
        ImageResizer(8).transform([good, str(tmp_path / "bad scan.jpg")])
    nan = np.full((5, 5), np.nan)
    with pytest.raises(ValueError, match=r"X\[2\] contains NaN"):
        ImageResizer(8).transform([good, good, nan])
    with pytest.raises(ValueError, match=r"X\[1\] must be an image of shape"):
        ImageResizer(8).transform([good, np.zeros(5)])
    with pytest.raises(TypeError, match=r"X\[0\] must be a file path"):
        ImageResizer(8).transform([None])
    with pytest.raises(ImageLoadError, match="bad scan.jpg"):
        ImageResizer(8, n_jobs=2).transform([good] * 5 + [str(tmp_path / "bad scan.jpg")])


def test_threads_give_the_same_result(mixed_images):
    one = ImageResizer(16).transform(mixed_images * 3)
    np.testing.assert_array_equal(ImageResizer(16, n_jobs=2).transform(mixed_images * 3), one)
    np.testing.assert_array_equal(ImageResizer(16, n_jobs=-1).transform(mixed_images * 3), one)


def test_draft_decoding_of_a_big_jpeg_matches_a_full_decode(tmp_path):
    yy, xx = np.mgrid[0:1200, 0:1600]
    picture = (127 + 120 * np.sin(xx / 90.0) * np.cos(yy / 70.0)).astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "big.jpg", quality=95)
    fast = ImageResizer(64, channels=1, **PLAIN).transform([tmp_path / "big.jpg"])
    with Image.open(tmp_path / "big.jpg") as img:
        full = img.resize((64, 64), Image.Resampling.BILINEAR)
    reference = np.asarray(full, dtype=np.float32) / 255
    assert np.abs(fast[0, 0] - reference).max() < 0.03


@pytest.mark.parametrize(
    "params, match",
    [
        ({"size": 0}, "size"),
        ({"size": "big"}, "size"),
        ({"size": (1, 2, 3)}, "size"),
        ({"size": 1.5}, "size"),
        ({"channels": 2}, "channels"),
        ({"keep_aspect": "yes"}, "keep_aspect"),
        ({"dtype": "float64"}, "dtype"),
        ({"normalize": "z-score"}, "normalize"),
        ({"normalize": (0.5, 0.0)}, "positive"),
        ({"normalize": (0.5, [1, 1])}, "one per channel"),
        ({"normalize": "imagenet", "dtype": "uint8"}, "dtype='float32'"),
        ({"n_jobs": 0}, "n_jobs"),
    ],
)
def test_bad_parameters_are_named_at_fit_and_transform(params, match):
    resizer = ImageResizer(**params)
    with pytest.raises(ValueError, match=match):
        resizer.fit([])
    with pytest.raises(ValueError, match=match):
        resizer.transform([np.zeros((4, 4), dtype=np.uint8)])


def test_sklearn_conventions():
    params = ImageResizer().get_params()
    assert ImageResizer(**params).get_params() == params
    resizer = ImageResizer(size=[10, 12], normalize=(0.1, 0.2))
    assert resizer.size == [10, 12] and resizer.normalize == (0.1, 0.2)
    before = dict(vars(resizer))
    assert resizer.fit(["whatever.jpg"]) is resizer
    assert vars(resizer) == before
    assert resizer.__sklearn_tags__().requires_fit is False
    copy = clone(resizer)
    assert copy.get_params() == resizer.get_params()
    restored = pickle.loads(pickle.dumps(resizer))
    X = [np.zeros((4, 4), dtype=np.uint8)]
    np.testing.assert_array_equal(restored.transform(X), resizer.fit_transform(X))


def test_works_inside_a_cross_validated_pipeline():
    data = make_synthetic_mri(40, image_size=32, random_state=0)
    pipe = Pipeline(
        [
            ("resize", ImageResizer(16, channels=1)),
            ("flat", FunctionTransformer(lambda X: X.reshape(len(X), -1))),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    scores = cross_val_score(pipe, list(data.data), data.target, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_real_paths_give_float_images_in_unit_range(real_data):
    data = load_brain_mri(real_data)
    X = ImageResizer(64, n_jobs=2).transform(data.data)
    assert X.shape == (253, 3, 64, 64) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1
    assert (X.reshape(253, -1).std(axis=1) > 0.02).all()


def _head_on_black(height=200, width=200, box=(50, 150, 40, 160)):
    top, bottom, left, right = box
    image = np.zeros((height, width), dtype=np.uint8)
    yy, xx = np.mgrid[top:bottom, left:right]
    image[top:bottom, left:right] = 60 + (yy - top) + (xx - left) // 2
    return image


def test_the_defaults_crop_to_the_head_and_stretch_its_percentiles():
    image = _head_on_black() // 2  # a dim scanner: the head spans grey levels 30-129
    X = ImageResizer((50, 60), channels=1, dtype="uint8").transform([image])[0, 0]
    plain = ImageResizer((50, 60), channels=1, dtype="uint8", **PLAIN).transform([image])[0, 0]
    # The head fills the picture (but for the 5 % margin) and spans the whole grey range.
    assert (plain > 0).mean() < 0.35 and (X > 0).mean() > 0.7
    assert plain.max() < 130 and X.max() == 255


def test_crop_foreground_keeps_the_heads_box():
    image = _head_on_black()
    cropped = ImageResizer((50, 60), channels=1, dtype="uint8", crop_foreground=True,
                           crop_margin=0, standardize=None).transform([image])
    expected = ImageResizer((50, 60), channels=1, dtype="uint8", **PLAIN).transform(
        [image[50:150, 40:160]])
    np.testing.assert_array_equal(cropped, expected)
    with_margin = ImageResizer((50, 60), channels=1, dtype="uint8", crop_foreground=True,
                               crop_margin=0.1, standardize=None).transform([image])
    np.testing.assert_array_equal(with_margin, ImageResizer(
        (50, 60), channels=1, dtype="uint8", **PLAIN).transform([image[40:160, 28:172]]))
    blank = np.zeros((30, 40), dtype=np.uint8)
    assert ImageResizer(8, crop_foreground=True).transform([blank]).max() == 0


def test_percentile_standardisation_maps_the_1st_and_99th_percentiles_to_0_and_1():
    rng = np.random.default_rng(0)
    image = rng.integers(30, 120, size=(64, 64), dtype=np.uint8)
    X = ImageResizer(64, channels=1, standardize="percentile").transform([image])
    lo, hi = np.percentile(image, (1, 99))
    expected = np.clip((image.astype(np.float64) - lo) / (hi - lo), 0, 1)
    np.testing.assert_allclose(X[0, 0], expected, atol=0.5 / 255 + 1e-6)
    assert X.min() == 0 and X.max() == 1
    X8 = ImageResizer(64, channels=1, dtype="uint8", standardize="percentile").transform([image])
    np.testing.assert_array_equal(X8[0, 0], np.rint(expected * 255))


@pytest.mark.parametrize("values", [[7], [0, 255], [3, 3, 3, 200], list(range(256)) * 3])
def test_percentiles_from_the_histogram_equal_numpys(values):
    from skbrain.preprocessing import _uint8_percentiles

    rng = np.random.default_rng(len(values))
    image = rng.permutation(np.asarray(values, dtype=np.uint8))
    qs = (0.0, 1.0, 37.5, 99.0, 100.0)
    np.testing.assert_allclose(_uint8_percentiles(image, qs), np.percentile(image, qs))


def test_zscore_standardisation_gives_the_head_zero_mean_and_unit_spread():
    image = _head_on_black()
    X = ImageResizer(100, standardize="zscore").transform([image])
    head = ImageResizer(100, channels=1, dtype="uint8").transform([image])[0, 0] > 10
    values = X[0][:, head]
    assert abs(values.mean()) < 1e-5 and abs(values.std() - 1) < 1e-5
    assert X[0][:, ~head].max() < -1  # the background, below every head pixel's mean


@pytest.mark.parametrize(
    "params, match",
    [
        ({"standardize": "minmax"}, "standardize"),
        ({"standardize": "zscore", "dtype": "uint8"}, "dtype='float32'"),
        ({"standardize": "zscore", "normalize": "imagenet"}, "normalize=None"),
        ({"crop_foreground": "yes"}, "crop_foreground"),
        ({"foreground_threshold": 300}, "foreground_threshold"),
        ({"crop_margin": -0.1}, "crop_margin"),
        ({"cache_dir": 3}, "cache_dir"),
        ({"mirror_difference": 1}, "mirror_difference"),
        ({"mirror_difference": True, "channels": 1}, "channels=3"),
    ],
)
def test_bad_intensity_and_cache_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        ImageResizer(**params).fit([])


def test_mirror_difference_shows_a_one_sided_lesion_and_cancels_symmetric_anatomy():
    yy, xx = np.mgrid[:64, :64]
    head = (((yy - 32) / 28) ** 2 + ((xx - 31.5) / 24) ** 2 <= 1) * 120.0
    head[(np.abs(xx - 31.5) > 12) & (np.abs(yy - 20) < 4)] = 200  # symmetric "orbits"
    lesion = head.copy()
    lesion[36:44, 12:20] = 250
    images = [head.astype(np.uint8), lesion.astype(np.uint8)]
    plain = ImageResizer(64, crop_foreground=False, dtype="uint8").transform(images)
    X = ImageResizer(64, crop_foreground=False, dtype="uint8",
                     mirror_difference=True).transform(images)
    np.testing.assert_array_equal(X[:, :2], plain[:, :2])
    assert X[0, 2].max() == 0  # a symmetric head cancels, orbits and all
    diff = X[1, 2].astype(float)
    assert diff[36:44, 12:20].min() > 100 and diff[36:44, 44:52].min() > 100  # and its mirror
    assert diff[:30].max() == 0
