"""DICOM and NIfTI: pixel values, orientation, groups from metadata, bad files, end to end."""

import gzip
import io
import os
import warnings

import numpy as np
import pytest
from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.pixels import get_decoder  # noqa: E402
from pydicom.uid import (  # noqa: E402
    MPEG2MPML,
    JPEGLSLossless,
    generate_uid,
)

from skbrain import ImageResizer, SimpleCNNClassifier  # noqa: E402
from skbrain._imageio import is_dicom_file, read_image, slice_reference  # noqa: E402
from skbrain.cli import main  # noqa: E402
from skbrain.datasets import load_dicom, load_nifti  # noqa: E402
from skbrain.datasets._medical import _new_mr_dataset, _write_demo_series, expand_scans  # noqa: E402
from skbrain.exceptions import ImageLoadError, SkippedFilesWarning  # noqa: E402

NIB_DATA = os.path.join(os.path.dirname(nib.__file__), "tests", "data")


def _dicom(path, pixels, *, photometric="MONOCHROME2", signed=False, frames=1, **tags):
    ds = _new_mr_dataset()
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = int(signed)
    if frames > 1:
        ds.NumberOfFrames = frames
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.astype(np.int16 if signed else np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


# ---------------------------------------------------------------------- DICOM pixels


def test_mr_small_in_every_decodable_transfer_syntax_gives_the_file_window():
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    raw = ds.pixel_array.astype(float)
    # LINEAR window of PS3.3 C.11.2.1.2.1 with the file's center 600, width 1600.
    expected = np.rint(np.clip((raw - 599.5) / 1599 + 0.5, 0, 1) * 255).astype(np.uint8)
    for name in ("MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm",
                 "MR_small_bigendian.dcm", "MR_small_implicit.dcm"):
        got = np.asarray(read_image(get_testdata_file(name)))
        assert np.abs(got.astype(int) - expected).max() <= 1, name


def test_colour_dicom_comes_out_rgb_and_converts_like_any_image():
    path = get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")
    rgb = pydicom.dcmread(path).pixel_array
    img = read_image(path)
    assert img.mode == "RGB" and img.size == rgb.shape[1::-1]
    np.testing.assert_array_equal(np.asarray(img), rgb)
    assert read_image(path, mode="L").mode == "L"


def test_window_options_percentile_and_full_range(tmp_path):
    path = get_testdata_file("MR_small.dcm")
    raw = pydicom.dcmread(path).pixel_array
    full = np.asarray(read_image(slice_reference(path, window="full")))
    assert full[np.unravel_index(raw.argmin(), raw.shape)] == 0
    assert full[np.unravel_index(raw.argmax(), raw.shape)] == 255
    pct = np.asarray(read_image(slice_reference(path, window="percentile")))
    assert pct.min() == 0 and pct.max() == 255
    # The percentile window saturates the brightest 0.5 %; the full range does not.
    assert (pct == 255).mean() > (full == 255).mean()
    # Other VOI LUT functions go through pydicom's apply_voi_lut: LINEAR_EXACT is
    # within a level of LINEAR, SIGMOID keeps the order of the pixels.
    ds = pydicom.dcmread(path)
    linear = np.asarray(read_image(path)).astype(int)
    for function in ("LINEAR_EXACT", "SIGMOID"):
        ds.VOILUTFunction = function
        ds.save_as(tmp_path / f"{function}.dcm")
        got = np.asarray(read_image(tmp_path / f"{function}.dcm")).astype(int)
        if function == "LINEAR_EXACT":
            assert np.abs(got - linear).max() <= 1
        else:
            order = np.argsort(raw, axis=None, kind="stable")
            assert np.all(np.diff(got.ravel()[order]) >= 0) and got.max() > got.min()


def test_rescale_monochrome1_signed_and_no_extension(tmp_path):
    values = np.arange(64, dtype=np.int16).reshape(8, 8) * 10 - 300
    plain = _dicom(tmp_path / "IM0001", values, signed=True, RescaleSlope=2, RescaleIntercept=-5,
                   WindowCenter=-5, WindowWidth=2 * 630 + 1)
    assert is_dicom_file(plain) and not os.path.splitext(plain)[1]
    mono2 = np.asarray(read_image(plain)).astype(int)
    hu = 2 * values.astype(float) - 5
    np.testing.assert_allclose(mono2, np.rint(np.clip((hu + 5.5) / 1260 + 0.5, 0, 1) * 255),
                               atol=1)
    inverted = _dicom(tmp_path / "m1.dcm", values, signed=True, photometric="MONOCHROME1",
                      RescaleSlope=2, RescaleIntercept=-5, WindowCenter=-5,
                      WindowWidth=2 * 630 + 1)
    np.testing.assert_allclose(np.asarray(read_image(inverted)).astype(int), 255 - mono2, atol=1)


def test_multi_frame_files_give_one_image_per_frame(tmp_path):
    frames = np.stack([np.full((6, 6), 100 * (k + 1), dtype=np.uint16) for k in range(3)])
    frames[:, 0, 0] = 0
    path = _dicom(tmp_path / "multi.dcm", frames, frames=3, PatientID="M1")
    with pytest.raises(ImageLoadError, match="3 frames.*::frame=N"):
        read_image(path)
    tops = [np.asarray(read_image(slice_reference(path, frame=k, window="full")))[1, 1]
            for k in range(3)]
    assert tops == [255, 255, 255]
    with pytest.raises(ImageLoadError, match="frame=5 but the file has 3"):
        read_image(f"{path}::frame=5")
    data = load_dicom(tmp_path, labels=None)
    assert data.data.tolist() == [f"{path}::frame={k}" for k in range(3)]
    assert data.groups.tolist() == ["patient:M1"] * 3 and data.slice_index.tolist() == [0, 1, 2]


def test_bad_dicom_files_name_the_file_and_the_cause(tmp_path):
    for name, message in [("MR_truncated.dcm", "truncated"), ("rtplan.dcm", "no pixel data")]:
        with pytest.raises(ImageLoadError, match=message) as info:
            read_image(get_testdata_file(name))
        assert name in str(info.value)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(open(get_testdata_file("MR_small.dcm"), "rb").read()[:600])
    with pytest.raises(ImageLoadError, match="cut.dcm"):
        read_image(cut)
    mpeg = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    mpeg.file_meta.TransferSyntaxUID = MPEG2MPML
    mpeg.PixelData = pydicom.encaps.encapsulate([b"\x00" * 64])
    mpeg.save_as(tmp_path / "video.dcm")
    with pytest.raises(ImageLoadError, match="video.dcm.*no decoder for its transfer syntax MPEG"):
        read_image(tmp_path / "video.dcm")


def test_a_compression_without_its_decoder_names_the_package(monkeypatch):
    path = get_testdata_file("MR_small_jpeg_ls_lossless.dcm")
    decoder = get_decoder(JPEGLSLossless)
    if decoder.is_available:
        expected = np.asarray(read_image(get_testdata_file("MR_small.dcm")))
        np.testing.assert_array_equal(np.asarray(read_image(path)), expected)
        # Now as on a machine without pylibjpeg, gdcm or pyjpegls.
        monkeypatch.setattr(decoder, "_available", {})
    with pytest.raises(ImageLoadError, match=r"MR_small_jpeg_ls_lossless.dcm.*JPEG-LS Lossless "
                       r"Image Compression \(1.2.840.10008.1.2.4.80\); pip install pylibjpeg "
                       "pylibjpeg-libjpeg would"):
        read_image(path)


# ---------------------------------------------------------------------- load_dicom


@pytest.fixture(scope="module")
def series_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dicom")
    _write_demo_series(folder, patients=["P1", "P2", "P3", "P4"], n_slices=6, size=24)
    return folder


def test_load_dicom_groups_are_patient_ids_and_slices_are_in_position_order(series_folder):
    before = sorted((p, p.stat().st_mtime_ns) for p in series_folder.rglob("*"))
    data = load_dicom(series_folder)
    assert data.target_names.tolist() == ["no", "yes"]
    assert data.groups.tolist() == [f"patient:P{k}" for k in (1, 3, 2, 4) for _ in range(6)]
    assert data.target.tolist() == [0] * 12 + [1] * 12
    assert data.patient_id.tolist() == [f"P{k}" for k in (1, 3, 2, 4) for _ in range(6)]
    positions = [float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in data.data[:6]]
    assert positions == sorted(positions) and data.slice_index[:6].tolist() == list(range(6))
    # Stored + rescale + window give back the synthetic pictures' 0-255 values.
    img = np.asarray(read_image(data.data[0])).astype(int)
    stored = pydicom.dcmread(data.data[0]).pixel_array.astype(int)
    assert np.abs(img - (stored - 50)).max() <= 1
    assert sorted((p, p.stat().st_mtime_ns) for p in series_folder.rglob("*")) == before


def test_missing_patient_id_falls_back_to_the_study_with_a_warning(tmp_path):
    study = generate_uid()
    for k, pid in enumerate(["", "ANONYMOUS"]):
        _dicom(tmp_path / f"a{k}.dcm", np.eye(4, dtype=np.uint16), PatientID=pid,
               StudyInstanceUID=study)
    _dicom(tmp_path / "b.dcm", np.eye(4, dtype=np.uint16))
    with pytest.warns(UserWarning, match="no usable PatientID.*2 by StudyInstanceUID.*1 by file"):
        data = load_dicom(tmp_path, labels=None)
    groups = {os.path.basename(p): g for p, g in zip(data.data, data.groups, strict=True)}
    assert groups == {"a0.dcm": f"study:{study}", "a1.dcm": f"study:{study}",
                      "b.dcm": f"file:{tmp_path / 'b.dcm'}"}


def test_load_dicom_bad_files_raise_or_are_skipped_and_empty_folders_refused(tmp_path):
    (tmp_path / "yes" / "p1").mkdir(parents=True)
    (tmp_path / "no").mkdir()
    good = [_dicom(tmp_path / c / f"{c}.dcm", np.eye(4, dtype=np.uint16), PatientID=c)
            for c in ("yes", "no")]
    broken = tmp_path / "yes" / "p1" / "broken"
    broken.write_bytes(open(get_testdata_file("MR_truncated.dcm"), "rb").read())
    with pytest.raises(ImageLoadError, match="broken.*truncated"):
        load_dicom(tmp_path)
    with pytest.warns(SkippedFilesWarning, match="broken"):
        data = load_dicom(tmp_path, on_error="skip")
    assert sorted(data.data.tolist()) == sorted(str(p) for p in good)
    empty = tmp_path / "empty"
    (empty / "series").mkdir(parents=True)
    with pytest.raises(ValueError, match="no class sub-folders with DICOM files"):
        load_dicom(empty)
    with pytest.raises(ValueError, match="no DICOM files"):
        load_dicom(empty, labels=None)


# ---------------------------------------------------------------------- NIfTI


def test_nifti_is_reoriented_to_ras_and_shown_as_a_viewer_shows_it(tmp_path):
    data = np.zeros((10, 12, 8), dtype=np.float32)
    data[2, 3, 5] = 100.0
    # x and y flipped (LPS storage): voxel (2, 3) lies at RAS x = -2, y = -3.
    affine = np.diag([-1.0, -1.0, 1.0, 1.0])
    path = tmp_path / "lps.nii.gz"
    nib.save(nib.Nifti1Image(data, affine), path)
    img = np.asarray(read_image(slice_reference(path, plane="axial", index=5, window="full")))
    # RAS index of the voxel: x' = 9 - 2 = 7, y' = 11 - 3 = 8; row = 11 - y', col = 9 - x'.
    assert img.shape == (12, 10)
    assert np.argwhere(img == 255).tolist() == [[3, 2]]
    cor = np.asarray(read_image(slice_reference(path, plane="coronal", index=8, window="full")))
    assert cor.shape == (8, 10) and np.argwhere(cor == 255).tolist() == [[2, 2]]
    sag = np.asarray(read_image(slice_reference(path, plane="sagittal", index=7, window="full")))
    assert sag.shape == (8, 12) and np.argwhere(sag == 255).tolist() == [[2, 3]]


def test_load_nifti_slice_choices_and_shipped_files(tmp_path):
    anat = os.path.join(NIB_DATA, "anatomical.nii")
    n = nib.load(anat).shape[2]
    assert len(load_nifti([anat], slices="all").data) == n
    middle = load_nifti([anat], [1])
    assert middle.data.tolist() == [f"{anat}::axial={n // 2}"] and middle.target.tolist() == [1]
    assert load_nifti([anat], slices=[0, 3]).slice_index.tolist() == [0, 3]
    vol = np.zeros((20, 20, 6), dtype=np.float32)
    vol[:, :, 2:4] = 1.0  # two full slices
    vol[5:7, 5:7, 4] = 1.0  # one with 1 % foreground
    path = tmp_path / "sub-07" / "anat" / "sub-07_T1w.nii"
    path.parent.mkdir(parents=True)
    nib.save(nib.Nifti1Image(vol, np.eye(4)), path)
    chosen = load_nifti([path], slices=0.05)
    assert chosen.slice_index.tolist() == [2, 3]
    assert set(chosen.groups.tolist()) == {"patient:sub-07"}
    with pytest.raises(ImageLoadError, match="4-D volume"):
        load_nifti([os.path.join(NIB_DATA, "example4d.nii.gz")])


def test_broken_nifti_files_name_the_file(tmp_path):
    header = tmp_path / "header.nii"
    header.write_bytes(b"\x00" * 400)
    good = tmp_path / "good.nii.gz"
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((30, 30, 30)).astype(np.float32),
                             np.eye(4)), good)
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(good.read_bytes()[:4000])
    for path, message in [(header, "header.nii.*broken header"),
                          (cut, "cut.nii.gz.*truncated or corrupt")]:
        with pytest.raises(ImageLoadError, match=message):
            read_image(path)
    with pytest.warns(SkippedFilesWarning, match="cut.nii.gz"):
        assert len(load_nifti([good, cut], on_error="skip").data) == 1
    assert gzip.decompress(good.read_bytes())  # inputs untouched


# ---------------------------------------------------------------------- end to end


def test_pipeline_fits_on_dicom_and_nifti_slices_with_patient_groups(series_folder, tmp_path):
    data = load_dicom(series_folder)
    model = make_pipeline(ImageResizer(16, channels=1),
                          SimpleCNNClassifier(n_kernels=4, max_epochs=3, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scores = cross_val_score(model, data.data, data.target, groups=data.groups,
                                 cv=StratifiedGroupKFold(2), scoring="accuracy")
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    # NIfTI: stack the DICOM slices of each patient into a volume.
    volumes, labels = [], []
    for patient in np.unique(data.patient_id):
        rows = np.flatnonzero(data.patient_id == patient)
        stack = np.stack([pydicom.dcmread(p).pixel_array.T for p in data.data[rows]], axis=-1)
        path = tmp_path / f"sub-{patient}_T1w.nii.gz"
        nib.save(nib.Nifti1Image(stack.astype(np.float32), np.eye(4)), path)
        volumes.append(path)
        labels.append(data.target[rows[0]])
    slices = load_nifti(volumes, labels, slices="all")
    assert len(slices.data) == 24 and len(set(slices.groups)) == 4
    fitted = model.fit(slices.data, slices.target)
    assert fitted.predict_proba(slices.data[:5]).shape == (5, 2)


def test_skbrain_train_splits_a_dicom_folder_by_patient(series_folder, tmp_path, capsys):
    import json

    model = tmp_path / "m.skbrain"
    code = main(["train", "--model", "simple", "--data", str(series_folder), "--image-size",
                 "16", "--set", "max_epochs=1", "--set", "n_kernels=4", "--set", "verbose=0",
                 "--test-size", "0.5", "--output", str(model)])
    out = capsys.readouterr().out
    assert code == 0
    assert "data: 24 images (12 tumor, 12 no tumor) from 4 patients (DICOM) in" in out
    assert "test 12 images (6 tumor, 6 no tumor) from 2 patients (DICOM)" in out
    report = json.loads((tmp_path / "m.metrics.json").read_text())
    assert report["data"]["kind"] == "dicom"
    # Files are <class>/<patient>/IMnnnn: no patient on both sides of the split.
    patients = {side: {rel.split("/")[1] for rel in report["split"][side]}
                for side in ("train", "test")}
    assert len(patients["train"]) == len(patients["test"]) == 2
    assert not patients["train"] & patients["test"]
    card = (tmp_path / "m.model_card.md").read_text()
    assert "from 4 patients (PatientID)" in card
    assert main(["evaluate", str(model), "--data", str(series_folder)]) == 0
    assert "on the saved test split: 12 images" in capsys.readouterr().out


def _train_on_series(series_folder, tmp_path):
    """A tiny model trained by ``skbrain train`` on the series' files in yes/ and no/."""
    flat = tmp_path / "flat"
    for ref, label in zip(load_dicom(series_folder).data, load_dicom(series_folder).target,
                          strict=True):
        out = flat / ("yes" if label else "no")
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{len(list(out.iterdir()))}.dcm").write_bytes(open(ref, "rb").read())
    model = tmp_path / "m.skbrain"
    # Four patients, grouped by PatientID: half of them test.
    assert main(["train", "--model", "simple", "--data", str(flat), "--image-size", "16",
                 "--set", "max_epochs=1", "--set", "n_kernels=4", "--quiet",
                 "--test-size", "0.5", "--output", str(model)]) == 0
    return model


def test_skbrain_train_and_predict_read_dicom_and_nifti(series_folder, tmp_path, capsys):
    model = _train_on_series(series_folder, tmp_path)
    capsys.readouterr()
    volume = tmp_path / "vol.nii.gz"
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((16, 16, 5)).astype(np.float32),
                             np.eye(4)), volume)
    csv_path = tmp_path / "rows.csv"
    code = main(["predict", str(model), str(volume), str(series_folder / "yes"),
                 "--aggregate", "mean", "--output", str(csv_path)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()[1:]
    scans = [line for line in lines if "scan: mean of" in line]
    assert len(scans) == 3  # the volume and the two series in yes/
    assert sum("::axial=" in line for line in lines) == 5
    import csv as csv_module

    rows = list(csv_module.DictReader(open(csv_path)))
    assert len(rows) == len(lines)
    vol_rows = [r for r in rows if r["scan"] == str(volume)]
    vol_scan = next(r for r in rows if r["kind"] == "scan" and r["file"] == str(volume))
    assert float(vol_scan["p_tumor"]) == pytest.approx(
        np.mean([float(r["p_tumor"]) for r in vol_rows]), abs=1e-3)
    images, scan_ids = expand_scans([series_folder / "no"])
    assert len(set(scan_ids)) == 2 and len(images) == 12


def test_predict_leaves_slices_with_little_head_out_of_the_volume(series_folder, tmp_path,
                                                                 capsys):
    model = _train_on_series(series_folder, tmp_path)
    # Slices 0-3 show a head; 4 and 5 a small patch (the top of a head), 6 nothing.
    data = np.zeros((16, 16, 7), dtype=np.float32)
    data[2:14, 2:14, :4] = np.random.default_rng(0).random((12, 12, 4)) + 0.5
    data[7:9, 7:9, 4:6] = 1.0
    volume = tmp_path / "head.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), volume)
    capsys.readouterr()
    csv_path = tmp_path / "rows.csv"
    assert main(["predict", str(model), str(volume), "--output", str(csv_path)]) == 0
    out = capsys.readouterr().out
    import csv as csv_module

    rows = list(csv_module.DictReader(open(csv_path)))
    slices = [r for r in rows if r["kind"] == "slice"]
    assert [r["counted"] for r in slices] == ["1"] * 4 + ["0"] * 3
    scan = rows[-1]
    assert (scan["kind"], scan["n_slices"], scan["counted"]) == ("scan", "4", "")
    assert float(scan["p_tumor"]) == pytest.approx(
        max(float(r["p_tumor"]) for r in slices[:4]), abs=1e-4)
    assert out.count("(under 15% head: not counted)") == 3
    assert "scan: max of 4 slices (3 showing under 15% head left out)" in out
    assert main(["predict", str(model), str(volume), "--csv", "--min-head", "0"]) == 0
    rows = list(csv_module.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[-1]["n_slices"] == "7" and {r["counted"] for r in rows[:-1]} == {"1"}


@pytest.mark.parametrize("channels", [1, 3])
def test_predict_reads_each_dicom_slice_once(series_folder, monkeypatch, channels):
    from skbrain._readers import _dispatch
    from skbrain.datasets import head_fraction
    from skbrain.inference import predict_images

    images, scans = expand_scans([series_folder / "yes", series_folder / "no"])
    y = np.array([int("yes" in str(s)) for s in scans])
    model = make_pipeline(ImageResizer(16, channels=channels),
                          SimpleCNNClassifier(max_epochs=1, n_kernels=4, random_state=0))
    model.fit(images, y)
    expected = model.predict_proba(images)[:, 1]
    shows = [head_fraction(np.asarray(read_image(i, mode="L"))) >= 0.15 for i in images]
    reads = []
    dicom = _dispatch.READERS["dicom"]
    monkeypatch.setitem(_dispatch.READERS, "dicom", _dispatch.Reader(
        dicom.claims, lambda path, options: reads.append(path) or dicom.read(path, options)))
    rows = [r for r in predict_images(model, images, scans=scans, batch_size=5)
            if r.kind == "slice"]
    # Once each: its share of head and the pipeline's pixels come from the same read.
    assert len(reads) == len(images) == len(set(reads))
    assert [r.p_tumor for r in rows] == pytest.approx(expected, abs=1e-6)
    assert [r.counted for r in rows] == shows
    # A threshold wrapper (as adapt_pretrained saves) passes the decoded slice on.
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    wrapped = FixedThresholdClassifier(FrozenEstimator(model), threshold=0.3).fit(images, y)
    reads.clear()
    rows = [r for r in predict_images(wrapped, images, scans=scans) if r.kind == "slice"]
    assert len(reads) == len(images)
    assert [r.p_tumor for r in rows] == pytest.approx(expected, abs=1e-6)
    assert [r.label for r in rows] == (expected >= 0.3).astype(int).tolist()


def test_slice_counts_from_the_header_match_the_reoriented_volume(tmp_path):
    from skbrain._imageio import nifti_slice_count, nifti_volume

    rng = np.random.default_rng(0)
    for k in range(4):
        affine = np.eye(4)
        affine[:3, :3] = 0
        for axis, world in enumerate(rng.permutation(3)):
            affine[world, axis] = rng.choice([-1.0, 1.0]) * (axis + 1)
        path = tmp_path / f"o{k}.nii"
        nib.save(nib.Nifti1Image(np.zeros((5, 7, 9), np.float32), affine), path)
        volume = nifti_volume(path)
        for plane in ("axial", "coronal", "sagittal"):
            assert nifti_slice_count(path, plane) == volume.n_slices(plane)
