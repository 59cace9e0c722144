"""Clinical input: folders of DICOM series and NIfTI volumes as slices, labels and patient groups.

The loaders return what :func:`load_brain_mri` returns for JPEG folders: one
entry per 2-D image in ``data`` (a file path, or a slice reference such as
``"scan.nii.gz::axial=40"`` that :class:`~skbrain.preprocessing.ImageResizer`
reads like a path), ``target`` from the class sub-folders, and ``groups``, here
taken from the files' metadata so that grouped splits keep a patient's slices
on one side.
"""

import os
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._imageio import (
    _PLANES,
    WINDOWS,
    _read_dicom_dataset,
    dicom_pixels,
    is_dicom_file,
    is_image_file,
    is_nifti_file,
    nifti_slice_count,
    nifti_volume,
    slice_reference,
)
from ..exceptions import ImageLoadError, SkippedFilesWarning
from ._brain_mri import _POSITIVE_NAMES, class_folders

__all__ = ["expand_scans", "load_dicom", "load_nifti"]

# PatientID values that anonymisation tools write in place of the real one.
_PLACEHOLDER_IDS = {"", "anonymous", "anonymized", "anonymised", "anon", "unknown", "none",
                    "null", "n/a", "na", "0", "-"}
_MEDIA_DIRECTORY = "1.2.840.10008.1.3.10"  # DICOMDIR: an index, not an image
_BIDS_SUBJECT = re.compile(r"^sub-[A-Za-z0-9]+$")
# Foreground: a pixel brighter than this share of the volume's intensity window.
_FOREGROUND_LEVEL = 0.1


# ---------------------------------------------------------------------- DICOM


def load_dicom(path, *, labels="folders", window="file", on_error="raise", return_X_y=False):
    """Load the slices, labels and patient groups of a folder of DICOM series.

    Every file below ``path`` whose content is DICOM (the ``DICM`` marker after
    the 128-byte preamble) is taken, whatever its name; other files are
    ignored. Each file is decoded once to check it. Nothing is written.

    Parameters
    ----------
    path : str or os.PathLike
        With ``labels="folders"``: a folder with one sub-folder per class
        (``yes/``, ``no/``, ...), each holding DICOM files at any depth (one
        folder per patient or series is usual). With ``labels=None``: any
        folder of DICOM files.
    labels : {"folders", None}, default="folders"
        Where the classes come from. The class rule is
        :func:`load_brain_mri`'s: with two classes, ``yes``, ``tumor`` or
        ``tumour`` is label 1.
    window : {"file", "percentile", "full"}, default="file"
        The intensity window the slices are read with (kept in each slice
        reference, so :class:`~skbrain.preprocessing.ImageResizer` applies
        it): the file's VOI LUT or Window Center/Width (or, without one, the
        percentile window), the 0.5th-99.5th percentiles of the image, or its
        full range. Rescale Slope/Intercept always comes first.
    on_error : {"raise", "skip"}, default="raise"
        A DICOM file that cannot be read (no pixel data, truncated, a
        compression no installed decoder handles): raise
        :class:`~skbrain.exceptions.ImageLoadError` naming it, or leave all of
        them out with one :class:`~skbrain.exceptions.SkippedFilesWarning`
        that lists them.
    return_X_y : bool, default=False
        If True, return ``(data, target)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        data : ndarray of str
            One entry per slice: the file path, or ``"<path>::frame=N"`` for
            frame N of a multi-frame file (plus ``,window=...`` when
            ``window`` is not ``"file"``). Sorted by class, patient, study,
            series, then position along the slice normal
            (ImagePositionPatient and ImageOrientationPatient), else
            InstanceNumber; frames of a multi-frame file are in frame order.
        target : ndarray of int64, or None with ``labels=None``
            The class of each slice.
        target_names : ndarray of str
            The class folder names in label order.
        groups : ndarray of str
            ``"patient:<PatientID>"``; where the PatientID is missing or an
            anonymisation placeholder (``ANONYMOUS``, empty, ...),
            ``"study:<StudyInstanceUID>"``, else ``"file:<path>"``. A warning
            says how many slices fell back. Frames of one file share the
            file's group.
        patient_id, study_uid, series_uid : ndarray of str
            The raw tags ("" when missing).
        slice_index : ndarray of int64
            The position of the slice in its series (0 = first).

    Raises
    ------
    ValueError
        If the folder does not exist or holds no DICOM files.
    skbrain.exceptions.ImageLoadError
        With ``on_error="raise"``, for the first file that cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from skbrain.datasets import load_dicom
    >>> from skbrain.datasets._medical import _write_demo_series
    >>> folder = tempfile.mkdtemp()
    >>> _write_demo_series(folder, patients=["P1", "P2"], n_slices=3)
    >>> data = load_dicom(folder)
    >>> data.target.tolist(), sorted(set(data.groups.tolist()))
    ([0, 0, 0, 1, 1, 1], ['patient:P1', 'patient:P2'])
    >>> import shutil; shutil.rmtree(folder)
    """
    _check_options(on_error=on_error, window=window)
    if labels not in ("folders", None):
        raise ValueError(f"labels must be 'folders' or None; got {labels!r}")
    folder = _check_folder(path, "DICOM")
    by_class = _class_files(folder, is_dicom_file, "DICOM", labels)

    records, errors = [], []
    for label, files in enumerate(by_class.values()):
        found, failed = _dicom_records(files, validate=True, on_error=on_error)
        for record in found:
            record["label"] = label
        records += found
        errors += failed
    _warn_skipped(errors, folder)
    if not records:
        raise ValueError(f"no readable DICOM images in {str(folder)!r}")

    records.sort(key=lambda r: (r["label"], r["patient"], r["study"], r["series"],
                                r["position"], r["path"]))
    groups, fallbacks = _dicom_groups(records)
    refs, rows = [], []
    slice_counter = {}
    for record, group in zip(records, groups, strict=True):
        for frame in range(record["n_frames"]):
            ref = slice_reference(record["path"], frame=frame if record["n_frames"] > 1 else None,
                                  window=window)
            key = (record["label"], record["series"] or record["path"])
            index = slice_counter.get(key, 0)
            slice_counter[key] = index + 1
            refs.append(ref)
            rows.append((record["label"], group, record["patient"], record["study"],
                         record["series"], index))
    _warn_fallbacks(fallbacks, folder)
    return _bunch(refs, rows, list(by_class) if labels else None, return_X_y,
                  ("patient_id", "study_uid", "series_uid", "slice_index"))


def _dicom_record(path, *, validate):
    """Header facts of one DICOM file; None for a DICOMDIR. Decodes it when ``validate``."""
    label = os.fsdecode(path)
    with open(label, "rb") as fp:
        ds = _read_dicom_dataset(fp, label, stop_before_pixels=not validate)
    sop = getattr(ds.get("file_meta"), "MediaStorageSOPClassUID", None)
    if sop == _MEDIA_DIRECTORY:
        return None
    n_frames = len(dicom_pixels(ds, label)) if validate else int(ds.get("NumberOfFrames", 1) or 1)
    return {
        "path": label,
        "patient": str(ds.get("PatientID", "") or "").strip(),
        "study": str(ds.get("StudyInstanceUID", "") or ""),
        "series": str(ds.get("SeriesInstanceUID", "") or ""),
        "position": _slice_position(ds),
        "n_frames": n_frames,
    }


def _slice_position(ds):
    """Where a slice lies along its series' normal, else its InstanceNumber."""
    position = ds.get("ImagePositionPatient")
    orientation = ds.get("ImageOrientationPatient")
    try:
        if position is not None and orientation is not None and len(orientation) == 6:
            row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
            return float(np.dot(np.cross(row, col), np.asarray(position, float)))
        number = ds.get("InstanceNumber")
        return float(number) if number not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0


def _dicom_groups(records):
    groups, fallbacks = [], {"StudyInstanceUID": 0, "file": 0}
    for r in records:
        if r["patient"].lower() not in _PLACEHOLDER_IDS:
            groups.append(f"patient:{r['patient']}")
        elif r["study"]:
            groups.append(f"study:{r['study']}")
            fallbacks["StudyInstanceUID"] += r["n_frames"]
        else:
            groups.append(f"file:{r['path']}")
            fallbacks["file"] += r["n_frames"]
    return groups, fallbacks


def _warn_fallbacks(fallbacks, folder):
    if not any(fallbacks.values()):
        return
    parts = [f"{n} by {source}" for source, n in fallbacks.items() if n]
    warnings.warn(
        f"some DICOM files in {str(folder)!r} have no usable PatientID (missing or an "
        f"anonymisation placeholder); their slices are grouped {' and '.join(parts)}, so one "
        "patient's studies may land on both sides of a grouped split",
        UserWarning,
        stacklevel=3,
    )


def _dicom_records(files, *, validate, on_error):
    """``(records, error messages)`` of DICOM files; with ``on_error="raise"`` the first error."""
    records, errors = [], []
    for file in files:
        try:
            record = _dicom_record(file, validate=validate)
        except ImageLoadError as exc:
            if on_error == "raise":
                raise
            errors.append(str(exc))
            continue
        if record is not None:
            records.append(record)
    return records, errors


def _read_series(files, on_error):
    """Group DICOM files into series ordered by position: {series key: [references]}."""
    records, errors = _dicom_records(files, validate=False, on_error=on_error)
    records.sort(key=lambda r: (r["series"], r["position"], r["path"]))
    series = {}
    for r in records:
        key = f"series:{r['series']}" if r["series"] else f"file:{r['path']}"
        frames = [None] if r["n_frames"] == 1 else range(r["n_frames"])
        series.setdefault(key, []).extend(slice_reference(r["path"], frame=f) for f in frames)
    return series, errors


# ---------------------------------------------------------------------- NIfTI


def load_nifti(paths, target=None, *, plane="axial", slices="middle", window="file",
               on_error="raise", return_X_y=False):
    """Load 2-D slices of NIfTI volumes (``.nii``, ``.nii.gz``) with their labels and groups.

    Each volume is reoriented to the canonical RAS+ frame
    (``nibabel.as_closest_canonical``) and cut into slices of one plane, shown
    as DICOM viewers show them (see Notes). Voxels are not resampled, so
    anisotropic voxels give slices with unequal pixel spacing.

    Parameters
    ----------
    paths : str, os.PathLike or list of them
        A folder with one sub-folder of volumes per class (``yes/``, ``no/``),
        searched at any depth; or a list of volume files, with ``target``.
    target : array-like of shape (n_volumes,), default=None
        The label of each volume in ``paths`` (a list); None leaves the
        result's ``target`` None.
    plane : {"axial", "coronal", "sagittal"}, default="axial"
        The plane of the slices.
    slices : "middle", "all", list of int, or float in (0, 1), default="middle"
        Which slices of each volume: the middle one, all, these indices
        (counted in the RAS+ volume: axial from inferior to superior), or
        those whose foreground (pixels above 10 % of the volume's intensity
        window) covers more than this share of the slice.
    window : {"file", "percentile", "full"}, default="file"
        The intensity window, per volume: the header's ``cal_min``/``cal_max``
        when set, else the 0.5th-99.5th percentiles (``"percentile"``); or the
        volume's full range. One window per volume keeps its slices
        comparable.
    on_error : {"raise", "skip"}, default="raise"
        A volume that cannot be read (broken header or gzip, 4-D): raise
        :class:`~skbrain.exceptions.ImageLoadError` naming it, or skip it
        with a :class:`~skbrain.exceptions.SkippedFilesWarning`.
    return_X_y : bool, default=False
        If True, return ``(data, target)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        data : ndarray of str
            Slice references ``"<path>::<plane>=<index>[,window=...]"``.
        target : ndarray, or None
            The label of each slice's volume.
        target_names : ndarray of str
            The class folder names in label order (for a folder only).
        groups : ndarray of str
            NIfTI headers carry no patient: ``"patient:sub-XX"`` when the path
            has a BIDS subject folder or file-name prefix (``sub-XX``), else
            ``"file:<path>"`` (one group per volume).
        volume : ndarray of str
            The file of each slice.
        slice_index : ndarray of int64
            The slice's index along ``plane``.

    Notes
    -----
    Axial slices have anterior at the top and the patient's right on the
    image's left (radiological convention, as DICOM axial images); coronal
    slices superior at the top, right on the left; sagittal slices superior
    at the top, anterior on the left.

    4-D volumes (fMRI, DWI) are refused with an error: choose the volume and
    save it as a 3-D file first.

    Examples
    --------
    >>> import os, nibabel
    >>> from skbrain.datasets import load_nifti
    >>> anat = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    >>> data = load_nifti([anat], [1], slices="all")
    >>> len(data.data), data.data[0].endswith("anatomical.nii::axial=0")
    (25, True)
    """
    _check_options(on_error=on_error, window=window)
    if plane not in _PLANES:
        raise ValueError(f"plane must be one of {_PLANES}; got {plane!r}")
    _check_slices(slices)
    if isinstance(paths, (str, os.PathLike)):
        if target is not None:
            raise ValueError("target is for a list of volumes; a folder's classes are its "
                             "sub-folders")
        folder = _check_folder(paths, "NIfTI")
        by_class = _class_files(folder, is_nifti_file, "NIfTI", "folders")
        files = [f for fs in by_class.values() for f in fs]
        volume_labels = [k for k, fs in enumerate(by_class.values()) for _ in fs]
        names = list(by_class)
    else:
        files = [os.fsdecode(os.fspath(p)) for p in paths]
        if target is not None:
            volume_labels = list(np.asarray(target))
            if len(volume_labels) != len(files):
                raise ValueError(f"target has {len(volume_labels)} labels for {len(files)} "
                                 "volumes; give one label per volume")
        else:
            volume_labels = [None] * len(files)
        names = None
        folder = "the given volumes"

    refs, rows, errors = [], [], []
    for file, label in zip(files, volume_labels, strict=True):
        try:
            volume = nifti_volume(file)
            indices = _choose_slices(volume, plane, slices, file)
        except ImageLoadError as exc:
            if on_error == "raise":
                raise
            errors.append(str(exc))
            continue
        group = _bids_subject(file)
        for index in indices:
            refs.append(slice_reference(file, plane=plane, index=index, window=window))
            rows.append((label, group, file, index))
    _warn_skipped(errors, folder)
    if not refs:
        raise ValueError(f"no slices selected from {folder!r} (slices={slices!r})")
    out = _bunch(refs, rows, names, return_X_y, ("volume", "slice_index"))
    if not return_X_y and target is None and names is None:
        out.target = None
    return out


def _check_slices(slices):
    if isinstance(slices, str):
        if slices not in ("middle", "all"):
            raise ValueError(f"slices must be 'middle', 'all', a list of indices or a share in "
                             f"(0, 1); got {slices!r}")
    elif isinstance(slices, float):
        if not 0.0 < slices < 1.0:
            raise ValueError(f"a foreground share for slices must be in (0, 1); got {slices!r}")
    else:
        try:
            values = [int(i) for i in slices]
        except (TypeError, ValueError):
            raise ValueError(f"slices must be 'middle', 'all', a list of indices or a share in "
                             f"(0, 1); got {slices!r}") from None
        if not values or min(values) < 0:
            raise ValueError(f"slice indices must be a non-empty list of ints >= 0; "
                             f"got {slices!r}")


def _choose_slices(volume, plane, slices, label):
    n = volume.n_slices(plane)
    if isinstance(slices, str):
        return [n // 2] if slices == "middle" else list(range(n))
    if isinstance(slices, float):
        lo, hi = volume.windows["percentile"]
        level = lo + _FOREGROUND_LEVEL * (hi - lo)
        return [i for i in range(n)
                if (volume.slice(plane, i, label) > level).mean() > slices]
    indices = [int(i) for i in slices]
    if max(indices) >= n:
        raise ImageLoadError(f"cannot read image {label!r}: {plane} slice {max(indices)} is out "
                             f"of range; the volume has {n} {plane} slices (0 to {n - 1})")
    return indices


def _bids_subject(path):
    parts = Path(path).parts
    for part in reversed(parts[:-1]):
        if _BIDS_SUBJECT.match(part):
            return f"patient:{part}"
    prefix = Path(path).name.split("_")[0]
    if _BIDS_SUBJECT.match(prefix):
        return f"patient:{prefix}"
    return f"file:{path}"


# ---------------------------------------------------------------------- inputs for predict


def expand_scans(items, *, plane="axial", on_error="raise"):
    """List the 2-D images in files and folders, and the scan each belongs to.

    For :func:`skbrain.inference.predict_images` and ``skbrain predict``: a
    NIfTI volume gives all its slices of ``plane`` (scan: the volume); a
    folder gives its images by extension, its NIfTI volumes, and its DICOM
    files by content, grouped into series by SeriesInstanceUID and ordered by
    position (scan: the series); any other file is one image (no scan).

    Parameters
    ----------
    items : list of str or os.PathLike
        Files and folders.
    plane : {"axial", "coronal", "sagittal"}, default="axial"
        The plane NIfTI volumes are cut in.
    on_error : {"raise", "skip"}, default="raise"
        For DICOM headers that cannot be read while listing a folder.

    Returns
    -------
    images : list of str
        Paths and slice references, the slices of a scan next to each other.
    scans : list of str or None
        For each image, its scan (``"<volume path>"`` or
        ``"<folder>#series:<SeriesInstanceUID>"``, the folder that holds all the
        series' files), None for a lone image.

    Raises
    ------
    ValueError
        If an item does not exist, or a folder holds no images.
    """
    images, scans, errors = [], [], []
    for item in items:
        path = os.fsdecode(os.fspath(item))
        if os.path.isdir(path):
            plain, volumes, dicoms = [], [], []
            for file in _walk(Path(path)):
                if is_nifti_file(file):
                    volumes.append(file)
                elif is_image_file(file) and not file.lower().endswith((".dcm", ".dicom")):
                    plain.append(file)
                elif is_dicom_file(file):
                    dicoms.append(file)
            if not (plain or volumes or dicoms):
                raise ValueError(f"folder {path!r} holds no images, DICOM files or NIfTI "
                                 "volumes")
            images += plain
            scans += [None] * len(plain)
            series, skipped = _read_series(dicoms, on_error)
            errors += skipped
            for key, refs in series.items():
                # Named by the folder that holds all its files, which is usually
                # the series' own folder.
                where = os.path.commonpath([os.path.dirname(r.split("::")[0]) for r in refs])
                images += refs
                scans += [f"{where}#{key}"] * len(refs)
            for volume in volumes:
                _add_volume(volume, plane, images, scans)
        elif os.path.isfile(path):
            if is_nifti_file(path):
                _add_volume(path, plane, images, scans)
            else:
                images.append(path)
                scans.append(None)
        else:
            raise ValueError(f"{path!r} does not exist")
    _warn_skipped(errors, "the inputs")
    return images, scans


def _add_volume(path, plane, images, scans):
    # From the header: decoding every volume here would decompress it twice.
    n = nifti_slice_count(path, plane)
    images += [slice_reference(path, plane=plane, index=i) for i in range(n)]
    scans += [path] * n


# ---------------------------------------------------------------------- shared


def _check_options(*, on_error, window):
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}; got {window!r}")


def _check_folder(path, kind):
    folder = Path(os.fspath(path)).expanduser()
    if not folder.exists():
        raise ValueError(f"{kind} folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{kind} folder {str(folder)!r} is not a folder")
    return folder


def _walk(folder):
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield os.path.join(root, name)


def _class_files(folder, accept, kind, labels):
    """{class name: files} of the class sub-folders (or {"": files} without labels)."""
    if labels is None:
        files = [f for f in _walk(folder) if accept(f)]
        if not files:
            raise ValueError(f"no {kind} files in {str(folder)!r} (an empty series folder?)")
        return {"": files}
    classes = class_folders(folder, lambda sub: [f for f in _walk(sub) if accept(f)])
    if not classes:
        raise ValueError(
            f"no class sub-folders with {kind} files in {str(folder)!r} (an empty series "
            f"folder?); expected {folder}/yes/... and {folder}/no/..., or labels=None"
        )
    return classes


def _warn_skipped(errors, where):
    if errors:
        listing = "\n  ".join(errors)
        warnings.warn(f"skipped {len(errors)} unreadable file(s) in {str(where)!r}:\n  "
                      f"{listing}", SkippedFilesWarning, stacklevel=3)


def _bunch(refs, rows, names, return_X_y, extra):
    data = np.array(refs, dtype=str)
    labels = [r[0] for r in rows]
    target = None if names is None and labels[0] is None else np.asarray(labels)
    if names is not None and target is not None:
        target = target.astype(np.int64)
    if return_X_y:
        return data, target
    out = Bunch(data=data, target=target, groups=np.array([r[1] for r in rows], dtype=str))
    if names:
        out.target_names = np.array(names, dtype=str)
    for k, field in enumerate(extra, start=2):
        values = [r[k] for r in rows]
        out[field] = np.array(values, dtype=np.int64 if field == "slice_index" else str)
    return out


def _new_mr_dataset(**tags):
    """A new MR image dataset with its file meta and instance UIDs; ``tags`` set on it.

    The one place the demo writer, the tests and the decode benchmark make DICOM files.
    """
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
    for name, value in tags.items():
        setattr(ds, name, value)
    return ds


def _write_demo_series(folder, *, patients=("P1", "P2", "P3"), n_slices=4, size=32,
                       classes=("no", "yes"), random_state=0):
    """Write one synthetic MR series per patient, cycling through ``classes``, for examples.

    Each slice is a 16-bit MONOCHROME2 image with Rescale Slope/Intercept and
    a Window Center/Width; the "yes" slices have a bright blob. Returns None.
    """
    from pydicom.uid import generate_uid

    from ._synthetic import make_synthetic_mri

    rng = np.random.default_rng(random_state)
    for p, patient in enumerate(patients):
        cls = classes[p % len(classes)]
        positive = cls.lower() in _POSITIVE_NAMES
        study, series = generate_uid(), generate_uid()
        synth = make_synthetic_mri(4 * n_slices, image_size=size,
                                   random_state=int(rng.integers(1 << 31)))
        pictures = synth.data[synth.target == int(positive)][:n_slices]
        out = Path(folder) / cls / patient
        out.mkdir(parents=True, exist_ok=True)
        for k, picture in enumerate(pictures):
            ds = _new_mr_dataset(PatientID=patient, StudyInstanceUID=study,
                                 SeriesInstanceUID=series)
            ds.Modality, ds.InstanceNumber = "MR", k + 1
            ds.ImagePositionPatient = [0.0, 0.0, float(5 * k)]
            ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
            ds.Rows, ds.Columns = picture.shape
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
            ds.RescaleSlope, ds.RescaleIntercept = 2.0, -100.0
            # Stored s = picture + 50 rescales to 2 * picture; the window maps that
            # back to the picture's 0-255, so a test can compare exact values.
            ds.WindowCenter, ds.WindowWidth = 255.0, 511.0
            stored = picture.astype(np.uint16) + 50
            ds.PixelData = stored.tobytes()
            ds.save_as(out / f"IM{k:04d}", enforce_file_format=True)
