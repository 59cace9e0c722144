"""Shared fixtures.

The real images are never copied into the repository: tests find them through
``SKBRAIN_DATA`` and fall back to ``../shared/data/brain_mri`` beside the
repository root. Where neither exists the real-data tests are skipped, unless
``SKBRAIN_REQUIRE_REAL_DATA=1`` (set by ``.ci/run``) turns that into a failure.
"""

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FALLBACK_DATA = REPO_ROOT.parent / "shared" / "data" / "brain_mri"


def real_data_dir():
    """Return the folder of the real images, or None when it is not there."""
    candidate = Path(os.environ.get("SKBRAIN_DATA") or FALLBACK_DATA)
    if (candidate / "yes").is_dir() and (candidate / "no").is_dir():
        return candidate.resolve()  # load_brain_mri returns absolute paths
    return None


@pytest.fixture(scope="session")
def real_data():
    path = real_data_dir()
    if path is None:
        if os.environ.get("SKBRAIN_REQUIRE_REAL_DATA") == "1":
            pytest.fail("the real brain MRI images were required but not found")
        pytest.skip("real brain MRI images not found (set SKBRAIN_DATA)")
    return path


@pytest.fixture(scope="session")
def synthetic_images():
    """Forty 32x32 synthetic slices as (n, 3, 32, 32) float32 in [0, 1] and labels."""
    from skbrain.datasets import make_synthetic_mri

    bunch = make_synthetic_mri(40, image_size=32, random_state=0)
    X = bunch.data.astype(np.float32) / 255.0
    if X.ndim == 3:
        X = np.repeat(X[:, None], 3, axis=1)
    return X, bunch.target


FALLBACK_DATA_4CLASS = REPO_ROOT.parent / "shared" / "data" / "brain_tumor_mri_4class"


@pytest.fixture(scope="session")
def real_data_4class():
    """The four-class collection (glioma, meningioma, notumor, pituitary), found through
    ``SKBRAIN_DATA_4CLASS`` or ``../shared/data/brain_tumor_mri_4class``."""
    candidate = Path(os.environ.get("SKBRAIN_DATA_4CLASS") or FALLBACK_DATA_4CLASS)
    if not (candidate / "notumor").is_dir():
        if os.environ.get("SKBRAIN_REQUIRE_REAL_DATA") == "1":
            pytest.fail("the four-class brain MRI images were required but not found")
        pytest.skip("four-class brain MRI images not found (set SKBRAIN_DATA_4CLASS)")
    return candidate.resolve()
