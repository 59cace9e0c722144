"""The libjpeg-turbo decode path of ImageResizer (``decoder="auto"``) against Pillow's."""

import io

import numpy as np
import pytest
from PIL import Image

import skbrain._readers as imageio
import skbrain._readers._raster as raster
from skbrain.datasets import load_brain_mri
from skbrain.exceptions import ImageLoadError
from skbrain.preprocessing import ImageResizer

pytest.importorskip("simplejpeg")


def _jpeg_bytes(array, **save):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", **save)
    return buf.getvalue()


def _head(size=(300, 260)):
    yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
    cy, cx = size[0] / 2, size[1] / 2
    inside = ((yy - cy) / (0.4 * size[0])) ** 2 + ((xx - cx) / (0.4 * size[1])) ** 2 < 1
    return np.where(inside, 80 + 60 * np.sin(xx / 9.0), 0).astype(np.uint8)


def test_real_images_match_pillow_within_one_grey_level(real_data):
    paths = load_brain_mri(real_data).data
    pillow = ImageResizer(150, dtype="uint8", decoder="pillow").transform(paths)
    turbo = ImageResizer(150, dtype="uint8").transform(paths)
    diff = np.abs(pillow.astype(np.int16) - turbo)
    # Only colour files differ: libjpeg-turbo and PIL round YCbCr -> RGB differently.
    assert diff.max() <= 1
    assert diff.mean() < 0.05


def test_scaled_decode_covers_the_target_at_the_draft_scale():
    data = _jpeg_bytes(_head((1200, 1000)))
    img = imageio.decode_jpeg_scaled(data, size_hint=(150, 150))
    assert img.mode == "L"
    assert img.size == (250, 300)  # 1/4: 1/8 would give 125 x 150, narrower than 150
    with Image.open(io.BytesIO(data)) as pil:
        pil.draft("L", (150, 150))
        np.testing.assert_array_equal(np.asarray(img), np.asarray(pil.convert("L")))


def test_neutral_colour_jpeg_comes_back_gray_and_coloured_stays_rgb():
    gray = np.repeat(_head()[..., None], 3, axis=2)
    img = imageio.decode_jpeg_scaled(_jpeg_bytes(gray), size_hint=64, gray_if_neutral=True)
    assert img.mode == "L"
    colour = gray.copy()
    colour[100:140, 100:140] = (200, 30, 30)
    img = imageio.decode_jpeg_scaled(_jpeg_bytes(colour), size_hint=64, gray_if_neutral=True)
    assert img.mode == "RGB"
    assert img.size == (65, 75)  # a quarter of 260 x 300
    assert np.asarray(img)[30, 30, 0] > 150  # the red square


def test_pillow_decides_what_the_turbo_path_leaves(tmp_path):
    png_as_jpg = tmp_path / "scan.jpg"
    Image.fromarray(_head()).save(png_as_jpg, format="PNG")
    assert imageio.decode_jpeg_scaled(png_as_jpg.read_bytes(), size_hint=64) is None

    cmyk = io.BytesIO()
    Image.fromarray(np.dstack([_head()] * 3)).convert("CMYK").save(cmyk, format="JPEG")
    assert imageio.decode_jpeg_scaled(cmyk.getvalue(), size_hint=64) is None

    rotated = Image.fromarray(_head())
    exif = rotated.getexif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    rotated.save(buf, format="JPEG", exif=exif)
    assert imageio.decode_jpeg_scaled(buf.getvalue(), size_hint=64) is None
    no_rotation = Image.Exif()
    no_rotation[0x0112] = 1
    buf = io.BytesIO()
    rotated.save(buf, format="JPEG", exif=no_rotation)
    assert imageio.decode_jpeg_scaled(buf.getvalue(), size_hint=64) is not None

    rot_path = tmp_path / "rotated.jpg"
    rot_path.write_bytes(buf.getvalue())
    files = [png_as_jpg, rot_path]
    np.testing.assert_array_equal(
        ImageResizer(32).transform(files), ImageResizer(32, decoder="pillow").transform(files)
    )


def test_damaged_jpeg_fails_in_pillows_words(tmp_path):
    data = _jpeg_bytes(_head())
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    assert imageio.decode_jpeg_scaled(cut.read_bytes(), size_hint=64) is None
    for decoder in ("auto", "pillow"):
        with pytest.raises(ImageLoadError, match="cut.jpg.*truncated"):
            ImageResizer(32, decoder=decoder).transform([cut])


def test_without_simplejpeg_pillow_decodes_silently(tmp_path, monkeypatch):
    path = tmp_path / "head.jpg"
    path.write_bytes(_jpeg_bytes(_head()))
    with_turbo = ImageResizer(40).transform([path])
    monkeypatch.setattr(raster, "simplejpeg", None)
    assert not imageio.turbo_available()
    assert imageio.decode_jpeg_scaled(path.read_bytes(), size_hint=40) is None
    np.testing.assert_array_equal(ImageResizer(40).transform([path]), with_turbo)


def test_decoder_is_validated():
    with pytest.raises(ValueError, match="decoder must be 'auto' or 'pillow'"):
        ImageResizer(decoder="nvjpeg").fit([])
