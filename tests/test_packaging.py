"""The distribution: ``python -m build`` makes an sdist and a wheel that pass
``twine check --strict``, the wheel holds the dataset manifest and nothing that
does not belong in it, and it installs and runs in a fresh virtual environment
without internet access.
"""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MANIFEST = "skbrain/datasets/data/brain_mri_manifest.csv"
# Never part of a distribution, and too large or too racy to copy.
SKIP_IN_COPY = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "_build", "generated", "auto_examples", "runs", ".whl", ".gl",
)


def _version():
    text = (REPO_ROOT / "skbrain" / "_version.py").read_text(encoding="utf-8")
    return re.search(r"""__version__ = ["'](.+)["']""", text).group(1)


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Build the sdist, then the wheel from the sdist, from a copy of the checkout."""
    pytest.importorskip("build", reason="the dev extra (build, twine) is not installed")
    pytest.importorskip("setuptools", reason="building without isolation needs setuptools")
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(REPO_ROOT, source, ignore=SKIP_IN_COPY)
    out = work / "dist"
    # No isolation: the build uses this environment's setuptools instead of
    # downloading one, so it works offline.
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check",
         "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0], "work": work}


@pytest.mark.tier2
def test_twine_check_strict(dist):
    pytest.importorskip("twine", reason="the dev extra (build, twine) is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict",
         str(dist["wheel"]), str(dist["sdist"])],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tier2
def test_version_has_one_source(dist):
    version = _version()
    assert dist["wheel"].name.startswith(f"skbrain-{version}-")
    assert dist["sdist"].name == f"skbrain-{version}.tar.gz"
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        metadata = wheel.read(f"skbrain-{version}.dist-info/METADATA").decode()
    assert f"\nVersion: {version}\n" in metadata


@pytest.mark.tier2
def test_wheel_holds_the_package_and_manifest_only(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = wheel.namelist()
        entry_points = next(
            wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")
        )
    assert MANIFEST in names
    assert "skbrain/__init__.py" in names
    assert not [n for n in names if n.lower().endswith(IMAGE_SUFFIXES)]
    top_level = {n.split("/")[0] for n in names}
    assert top_level == {"skbrain", f"skbrain-{_version()}.dist-info"}, top_level
    assert re.search(r"^skbrain\s*=\s*skbrain\.cli:main$", entry_points, re.M), entry_points


@pytest.mark.tier2
def test_sdist_holds_no_images(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = sdist.getnames()
    root = f"skbrain-{_version()}"
    for needed in ("pyproject.toml", "README.md", "LICENSE", MANIFEST):
        assert f"{root}/{needed}" in names, needed
    assert not [n for n in names if n.lower().endswith(IMAGE_SUFFIXES)]


class _RecordingEnvBuilder(venv.EnvBuilder):
    def post_setup(self, context):
        self.context = context


@pytest.mark.tier2
def test_wheel_installs_and_runs_in_a_fresh_venv(dist):
    env_dir = dist["work"] / "fresh-venv"
    builder = _RecordingEnvBuilder(system_site_packages=True, with_pip=False)
    builder.create(env_dir)
    python, scripts = Path(builder.context.env_exe), Path(builder.context.bin_path)
    purelib = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip())
    # --system-site-packages reaches the base interpreter's packages only; when
    # this interpreter is itself a venv, its packages (torch, skorch...) are
    # made visible too, behind the new environment's own site-packages.
    if sys.prefix != sys.base_prefix:
        parents = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
        (purelib / "_parent_env.pth").write_text("\n".join(parents) + "\n", encoding="utf-8")

    # Outside the checkout, with no PYTHONPATH, so that neither pip nor Python
    # finds the source tree (or a stray skbrain.egg-info in it).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["MPLBACKEND"] = "Agg"
    run = dict(capture_output=True, text=True, timeout=300, cwd=dist["work"], env=env)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--no-cache-dir", "--disable-pip-version-check", str(dist["wheel"])],
        **run,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert (purelib / "skbrain" / "__init__.py").is_file(), install.stdout
    imported = subprocess.run(
        [str(python), "-c",
         "import skbrain; from skbrain import WideCNNClassifier; print(skbrain.__file__)"],
        **run,
    )
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).resolve().is_relative_to(env_dir.resolve())

    command = scripts / ("skbrain.exe" if os.name == "nt" else "skbrain")
    helped = subprocess.run([str(command), "--help"], **run)
    assert helped.returncode == 0, helped.stdout + helped.stderr
    assert "train" in helped.stdout


def test_release_metadata_files():
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "license", "repository-code"):
        assert citation.get(key), key
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in changelog
    assert re.search(r"^## \[Unreleased\]$", changelog, re.M)
    assert (REPO_ROOT / "CONTRIBUTING.md").is_file()
