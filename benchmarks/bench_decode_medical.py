"""Decode speed of DICOM and NIfTI slices next to JPEG, through ImageResizer(150) on one thread.

JPEG: the real 4-class images (SKBRAIN_DATA_4CLASS, 224 x 224) when present,
else synthetic JPEGs. DICOM: a synthetic series of 256 x 256 16-bit slices
(uncompressed, and RLE when pydicom can encode it). NIfTI: one synthetic
256 x 256 x 150 volume, .nii and .nii.gz, every axial slice. Files are written
to a temporary folder and removed.

``--predict`` adds ``predict_images`` with the default shipped detector over the
uncompressed series as one scan: each slice read once (its share of head and the
pipeline's pixels from one decode) against the same with every slice read twice, as
before session 56; the ratio is printed.

Run: ``nice -n 10 python benchmarks/bench_decode_medical.py [--n 300] [--predict]``
"""

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image
from pydicom.uid import RLELossless, generate_uid

from skbrain import ImageResizer
from skbrain._imageio import _NIFTI_CACHE, slice_reference
from skbrain.datasets._medical import _new_mr_dataset


def _rate(paths, repeats=3):
    # Decoding is what is compared: no head crop or standardisation on top of it.
    resizer = ImageResizer(150, crop_foreground=False, standardize=None)
    best = np.inf
    for _ in range(repeats):
        _NIFTI_CACHE.clear()
        start = time.perf_counter()
        resizer.transform(paths)
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def _predict_rate(paths, reuse, repeats=3):
    """Slices/s of predict_images over ``paths`` as one scan; ``reuse=False`` reads each
    slice twice (the pipeline is taken as one that only takes paths)."""
    from skbrain import inference, load_pretrained

    model = load_pretrained()
    saved = inference._resizer_mode
    if not reuse:
        inference._resizer_mode = lambda model: inference._PATHS_ONLY
    try:
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            rows = list(inference.predict_images(model, paths, scans=["s"] * len(paths)))
            best = min(best, time.perf_counter() - start)
    finally:
        inference._resizer_mode = saved
    assert len(rows) == len(paths) + 1
    return len(paths) / best


def _dicom_series(folder, n, rng, compress=False):
    study, series = generate_uid(), generate_uid()
    paths = []
    for k in range(n):
        ds = _new_mr_dataset(PatientID="B1", StudyInstanceUID=study, SeriesInstanceUID=series)
        ds.Rows = ds.Columns = 256
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleSlope, ds.RescaleIntercept = 1.0, 0.0
        ds.WindowCenter, ds.WindowWidth = 1500.0, 3000.0
        ds.PixelData = rng.integers(0, 4096, (256, 256), dtype=np.uint16).tobytes()
        if compress:
            ds.compress(RLELossless)
        path = folder / f"IM{k:05d}"
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="slices per format")
    parser.add_argument("--predict", action="store_true",
                        help="also predict_images over the DICOM series: read once or twice")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp(prefix="bench_medical_"))
    try:
        jpeg_root = os.environ.get("SKBRAIN_DATA_4CLASS")
        jpegs = sorted(str(p) for p in Path(jpeg_root).rglob("*.jpg"))[: args.n] \
            if jpeg_root else []
        source = "real 224x224 JPEGs (SKBRAIN_DATA_4CLASS)"
        if not jpegs:
            source = "synthetic 224x224 JPEGs"
            for k in range(args.n):
                jpegs.append(str(tmp / f"{k}.jpg"))
                Image.fromarray(rng.integers(0, 255, (224, 224), dtype=np.uint8)).save(jpegs[-1])
        (tmp / "dcm").mkdir()
        dicom = _dicom_series(tmp / "dcm", args.n, rng)
        (tmp / "rle").mkdir()
        try:
            rle = _dicom_series(tmp / "rle", args.n, rng, compress=True)
        except Exception as exc:  # RLE encoding needs numpy only, but say why if it fails
            print(f"RLE series not written: {exc}")
            rle = []
        volume = rng.integers(0, 4096, (256, 256, 150)).astype(np.int16)
        for name in ("vol.nii", "vol.nii.gz"):
            nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp / name)
        results = {
            f"JPEG ({source})": _rate(jpegs),
            "DICOM 256x256 16-bit, uncompressed": _rate(dicom),
        }
        if rle:
            results["DICOM 256x256 16-bit, RLE"] = _rate(rle)
        for name in ("vol.nii", "vol.nii.gz"):
            refs = [slice_reference(tmp / name, plane="axial", index=k) for k in range(150)]
            results[f"NIfTI {name} 256x256x150, all axial slices"] = _rate(refs)
        jpeg = next(iter(results.values()))
        print(f"{'format':58s} {'slices/s':>9s} {'vs JPEG':>8s}")
        for name, rate in results.items():
            print(f"{name:58s} {rate:9.0f} {rate / jpeg:8.2f}")
        if args.predict:
            once, twice = _predict_rate(dicom, True), _predict_rate(dicom, False)
            print(f"predict_images, default detector, DICOM series as one scan: read once "
                  f"{once:.0f} slices/s, read twice {twice:.0f} slices/s, ratio "
                  f"{once / twice:.2f}")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
