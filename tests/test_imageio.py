"""read_image: every kind of file and array it meets, and the errors for broken ones."""

import csv
import os

import numpy as np
import pytest
from PIL import Image

from skbrain._imageio import IMAGE_EXTENSIONS, is_image_file, read_image
from skbrain.exceptions import ImageLoadError

PIL_DEFAULT_BOMB_LIMIT = int(1024 * 1024 * 1024 // 4 // 3)


def _gradient(h=24, w=32):
    return (np.arange(h * w).reshape(h, w) % 256).astype(np.uint8)


# ---------------------------------------------------------------- files of every kind


def test_plain_jpeg_png_and_bmp_keep_their_pixels(tmp_path):
    gray = _gradient()
    rgb = np.stack([gray, 255 - gray, np.full_like(gray, 40)], axis=-1)
    for name, array in [("a.png", gray), ("b.png", rgb), ("c.bmp", rgb)]:
        Image.fromarray(array).save(tmp_path / name)
        img = read_image(tmp_path / name)
        assert img.mode == ("L" if array.ndim == 2 else "RGB")
        np.testing.assert_array_equal(np.asarray(img), array)
    Image.fromarray(rgb).save(tmp_path / "d.jpg", quality=95)
    img = read_image(str(tmp_path / "d.jpg"))
    assert img.mode == "RGB" and img.size == (32, 24)
    assert read_image(os.fsencode(tmp_path / "d.jpg")).size == (32, 24)


def test_sixteen_bit_png_is_scaled_by_its_maximum_not_clipped(tmp_path):
    values = np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as check:
        assert check.mode.startswith("I")
    img = read_image(tmp_path / "deep.png")
    assert img.mode == "L"
    np.testing.assert_array_equal(np.asarray(img), [[0, 64], [128, 255]])


def test_thirty_two_bit_and_float_tiffs_are_scaled(tmp_path):
    Image.fromarray(np.array([[-5, 0], [40, 100]], dtype=np.int32)).save(tmp_path / "i.tif")
    np.testing.assert_array_equal(np.asarray(read_image(tmp_path / "i.tif")), [[0, 0], [102, 255]])
    Image.fromarray(np.array([[0.0, 0.25], [0.5, 2.0]], dtype=np.float32)).save(
        tmp_path / "f.tiff"
    )
    np.testing.assert_array_equal(
        np.asarray(read_image(tmp_path / "f.tiff")), [[0, 32], [64, 255]]
    )


def test_all_zero_sixteen_bit_image_stays_black(tmp_path):
    Image.fromarray(np.zeros((4, 4), dtype=np.uint16)).save(tmp_path / "zero.png")
    assert read_image(tmp_path / "zero.png").getextrema() == (0, 0)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (16, 16), (0, 0, 0, 0)).save(tmp_path / "white.jpg")
    Image.new("CMYK", (16, 16), (0, 0, 0, 255)).save(tmp_path / "black.jpg")
    white, black = read_image(tmp_path / "white.jpg"), read_image(tmp_path / "black.jpg")
    assert white.mode == black.mode == "RGB"
    assert np.asarray(white).min() >= 245 and np.asarray(black).max() <= 10


def test_exif_rotated_jpeg_comes_out_upright(tmp_path):
    # Stored 40 wide, 20 tall, left half white; orientation 6 means "rotate 90
    # degrees clockwise to display", which puts the white half on top.
    stored = np.zeros((20, 40), dtype=np.uint8)
    stored[:, :20] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    img = read_image(tmp_path / "rotated.jpg")
    assert img.size == (20, 40)
    pixels = np.asarray(img)
    assert pixels[:18].mean() > 240 and pixels[22:].mean() < 15


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("L", (8, 8), 0), Image.new("L", (8, 8), 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    with Image.open(tmp_path / "anim.gif") as check:
        assert check.n_frames == 2
    img = read_image(tmp_path / "anim.gif")
    assert img.getextrema() in ((0, 0), ((0, 0), (0, 0), (0, 0)))
    assert img.mode in ("L", "RGB")
    img.load()  # usable after the file was closed


def test_rgba_is_composited_on_black(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:, :2, 3] = 0
    rgba[:, 2, 3] = 128
    rgba[:, 3, 3] = 255
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    pixels = np.asarray(read_image(tmp_path / "alpha.png"))
    assert pixels.shape == (4, 4, 3)
    assert (pixels[:, :2] == 0).all()
    assert abs(int(pixels[0, 2, 0]) - 100) <= 1 and pixels[0, 3, 0] == 200


def test_la_image_is_composited_on_black(tmp_path):
    img = Image.merge("LA", [Image.new("L", (4, 4), 200), Image.new("L", (4, 4), 0)])
    img.save(tmp_path / "la.png")
    out = read_image(tmp_path / "la.png")
    assert out.mode == "L" and out.getextrema() == (0, 0)


def test_palette_images_become_rgb_and_transparency_goes_black(tmp_path):
    img = Image.new("P", (4, 4), 1)
    img.putpalette([0, 0, 0, 250, 20, 20] + [0] * 762)
    img.save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png")
    assert out.mode == "RGB" and np.asarray(out)[0, 0].tolist() == [250, 20, 20]
    img.save(tmp_path / "p_transparent.png", transparency=1)
    out = read_image(tmp_path / "p_transparent.png")
    assert out.mode == "RGB" and np.asarray(out).max() == 0


def test_bilevel_image_becomes_grayscale(tmp_path):
    img = Image.new("1", (4, 4), 0)
    img.putpixel((0, 0), 1)
    img.save(tmp_path / "bw.png")
    out = read_image(tmp_path / "bw.png")
    assert out.mode == "L" and out.getextrema() == (0, 255)


def test_one_pixel_image(tmp_path):
    Image.new("RGB", (1, 1), (1, 2, 3)).save(tmp_path / "dot.png")
    out = read_image(tmp_path / "dot.png")
    assert out.size == (1, 1) and out.getpixel((0, 0)) == (1, 2, 3)


def test_webp_and_png_named_jpg_are_read_by_content(tmp_path):
    Image.new("RGB", (5, 5), (9, 9, 9)).save(tmp_path / "really_png.jpg", format="PNG")
    assert read_image(tmp_path / "really_png.jpg").getpixel((0, 0)) == (9, 9, 9)
    Image.new("RGB", (5, 5), (9, 9, 9)).save(tmp_path / "w.webp", lossless=True)
    assert read_image(tmp_path / "w.webp").getpixel((0, 0)) == (9, 9, 9)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_requested_mode_is_returned(tmp_path, mode):
    Image.new("RGBA", (6, 6), (10, 20, 30, 255)).save(tmp_path / "x.png")
    Image.new("L", (6, 6), 7).save(tmp_path / "y.png")
    for name in ("x.png", "y.png"):
        assert read_image(tmp_path / name, mode=mode).mode == mode


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        read_image(np.zeros((2, 2), dtype=np.uint8), mode="CMYK")


def test_size_hint_decodes_big_jpeg_at_reduced_scale(tmp_path):
    yy, xx = np.mgrid[0:1000, 0:1200]
    big = ((xx // 40 + yy // 40) % 2 * 200 + 20).astype(np.uint8)
    Image.fromarray(np.stack([big] * 3, axis=-1)).save(tmp_path / "big.jpg", quality=95)
    full = read_image(tmp_path / "big.jpg")
    small = read_image(tmp_path / "big.jpg", size_hint=150)
    assert full.size == (1200, 1000)
    assert min(small.size) >= 150 and small.size[0] < 600
    # Same picture: compare at the reduced size.
    ref = np.asarray(full.resize(small.size, Image.Resampling.BOX), dtype=float)
    assert np.abs(np.asarray(small, dtype=float) - ref).mean() < 6
    gray = read_image(tmp_path / "big.jpg", mode="L", size_hint=(150, 300))
    assert gray.mode == "L" and gray.size[0] >= 300 and gray.size[1] >= 150


# ---------------------------------------------------------------- broken files


@pytest.fixture
def broken(tmp_path):
    folder = tmp_path / "no"
    folder.mkdir()
    (folder / "1 no.jpeg").write_bytes(b"")
    (folder / "text.jpg").write_bytes(b"this is not an image at all\n" * 10)
    Image.fromarray(_gradient(200, 200)).save(folder / "full.jpg", quality=95)
    data = (folder / "full.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    (folder / "header.jpg").write_bytes(data[:300])  # cut inside the Huffman tables
    (folder / "a_dir.jpg").mkdir()
    return folder


@pytest.mark.parametrize(
    "name, reason",
    [
        ("1 no.jpeg", "file is empty"),
        ("text.jpg", "not an image file"),
        ("cut.jpg", "truncated"),
        ("header.jpg", "truncated"),
        ("a_dir.jpg", "is a directory"),
        ("missing.png", "no such file"),
    ],
)
def test_broken_files_raise_one_line_errors_naming_the_file(broken, name, reason):
    with pytest.raises(ImageLoadError, match=reason) as info:
        read_image(broken / name)
    message = str(info.value)
    assert name in message and "\n" not in message
    assert message.startswith("cannot read image ")


def test_error_names_the_path_as_given(broken, monkeypatch):
    monkeypatch.chdir(broken.parent)
    with pytest.raises(ImageLoadError, match="^cannot read image 'no/1 no.jpeg': file is empty$"):
        read_image("no/1 no.jpeg")


def test_image_load_error_is_a_value_error(broken):
    with pytest.raises(ValueError):
        read_image(broken / "text.jpg")


def test_decompression_bomb_limit_stays_on_and_names_the_file(tmp_path, monkeypatch):
    assert Image.MAX_IMAGE_PIXELS == PIL_DEFAULT_BOMB_LIMIT
    Image.new("L", (40, 40)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageLoadError, match=r"bomb\.png.*decompression-bomb"):
        read_image(tmp_path / "bomb.png")


def test_reading_never_modifies_the_file_and_closes_it(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 3
    Image.fromarray(_gradient()).save(tmp_path / "r.jpg", exif=exif)
    Image.new("RGBA", (5, 5)).save(tmp_path / "a.png")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    fd_dir = "/proc/self/fd"
    open_before = len(os.listdir(fd_dir)) if os.path.isdir(fd_dir) else None
    for _ in range(20):
        read_image(tmp_path / "r.jpg", size_hint=8)
        read_image(tmp_path / "a.png")
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert before == after
    if open_before is not None:
        assert len(os.listdir(fd_dir)) <= open_before


# ---------------------------------------------------------------- PIL images and arrays


def test_pil_input_is_converted_without_changing_it():
    src = Image.new("RGBA", (3, 3), (100, 100, 100, 0))
    out = read_image(src)
    assert src.mode == "RGBA" and out.mode == "RGB" and out.getextrema()[0] == (0, 0)
    gray = Image.new("L", (3, 3), 5)
    out = read_image(gray)
    assert out is not gray
    out.putpixel((0, 0), 99)
    assert gray.getpixel((0, 0)) == 5


@pytest.mark.parametrize(
    "array, mode, expected",
    [
        (np.full((2, 3), 7, dtype=np.uint8), "L", 7),
        (np.full((2, 3, 1), 7, dtype=np.uint8), "L", 7),
        (np.full((2, 3, 3), 7, dtype=np.uint8), "RGB", 7),
        (np.full((2, 3), 0.5), "L", 128),
        (np.full((2, 3), 1.5, dtype=np.float32), "L", 255),
        (np.full((2, 3), -0.5), "L", 0),
        (np.full((2, 3), True), "L", 255),
    ],
)
def test_arrays_of_each_layout_and_dtype(array, mode, expected):
    out = read_image(array)
    assert out.mode == mode and out.size == (3, 2)
    assert np.asarray(out).min() == expected == np.asarray(out).max()


def test_integer_arrays_are_scaled_by_their_maximum():
    out = read_image(np.array([[0, 512], [1024, 2048]], dtype=np.uint16))
    np.testing.assert_array_equal(np.asarray(out), [[0, 64], [128, 255]])
    out = read_image(np.array([[-10, 0], [5, 10]], dtype=np.int64))
    np.testing.assert_array_equal(np.asarray(out), [[0, 0], [128, 255]])


def test_four_channel_array_is_composited_on_black():
    rgba = np.full((2, 2, 4), 200, dtype=np.uint8)
    rgba[0, :, 3] = 0
    rgba[1, :, 3] = 255
    out = np.asarray(read_image(rgba))
    assert out.shape == (2, 2, 3) and (out[0] == 0).all() and (out[1] == 200).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_refused_naming_the_argument(bad):
    array = np.zeros((3, 3))
    array[1, 1] = bad
    with pytest.raises(ValueError, match="source contains NaN or infinity"):
        read_image(array)


@pytest.mark.parametrize(
    "shape, hint",
    [((5,), ""), ((2, 3, 4, 5), ""), ((4, 4, 2), ""), ((3, 8, 8), "moveaxis")],
)
def test_wrong_rank_or_channels_is_refused(shape, hint):
    with pytest.raises(ValueError, match=rf"shape.*{hint}"):
        read_image(np.zeros(shape, dtype=np.uint8))


def test_empty_complex_and_other_types_are_refused():
    with pytest.raises(ValueError, match="empty"):
        read_image(np.zeros((0, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="dtype"):
        read_image(np.zeros((2, 2), dtype=complex))
    with pytest.raises(TypeError, match="file path, a PIL image or a numpy array"):
        read_image(42)


def test_image_extensions_and_is_image_file():
    assert IMAGE_EXTENSIONS == {
        ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".dcm", ".dicom",
    }  # fmt: skip
    assert is_image_file("yes/Y100.JPG") and is_image_file("no/1 no.jpeg")
    assert not is_image_file("MANIFEST.csv") and not is_image_file("SOURCE.md")
    assert not is_image_file("yes/._Y1.jpg") and not is_image_file(".hidden.png")


# ---------------------------------------------------------------- the real images


def test_every_real_image_loads_in_every_mode(real_data):
    with open(real_data / "MANIFEST.csv", newline="") as fp:
        rows = list(csv.DictReader(fp))
    assert {"RGB", "L", "RGBA", "P"} <= {row["mode"] for row in rows}
    for row in rows:
        img = read_image(real_data / row["relpath"])
        assert img.mode in ("L", "RGB")
        size = (int(row["width"]), int(row["height"]))
        assert img.size in (size, size[::-1]), row["relpath"]
        if row["mode"] in ("RGBA", "P"):
            assert img.mode == "RGB"


# ---------------------------------------------------------------- a new format


def test_a_new_format_is_one_registered_reader(tmp_path):
    from skbrain._readers import READERS, Reader
    from skbrain.preprocessing import ImageResizer

    def read_npy(path, options):
        assert options == {}
        return Image.fromarray(np.load(path))

    pixels = _gradient(40, 30) * np.uint8(2)
    path = tmp_path / "slice.npy"
    np.save(path, pixels)
    READERS["npy"] = Reader(claims=lambda p: p.endswith(".npy"), read=read_npy)
    try:
        img = read_image(path)
        assert img.mode == "L" and img.size == (30, 40)
        np.testing.assert_array_equal(np.asarray(img), pixels)
        assert read_image(str(path), mode="RGB").mode == "RGB"
        resized = ImageResizer(20, crop_foreground=False, standardize=None).transform([path])
        assert resized.shape == (1, 3, 20, 20)
    finally:
        del READERS["npy"]
    with pytest.raises(ImageLoadError, match="slice.npy.*not an image file"):
        read_image(path)
