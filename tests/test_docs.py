"""The documentation: it builds offline with warnings as errors, and its API
reference lists every public module of skbrain.

The build here does not run the gallery examples (``SKBRAIN_DOCS_RUN_EXAMPLES=0``)
to stay fast; ``make docs`` and the docs workflow run them.
"""

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
EXAMPLES = REPO_ROOT / "examples"
NOT_YET_MARKER = "NOT IMPORTABLE YET"
# Modules that are not part of the library's Python API.
NOT_API = {"skbrain.cli", "skbrain.__main__"}


def _api_modules(text=None):
    """The modules of docs/api.rst (or of ``text``): (listed, listed as not importable yet)."""
    listed, not_yet = [], []
    target = listed
    if text is None:
        text = (DOCS / "api.rst").read_text(encoding="utf-8")
    for line in text.splitlines():
        if NOT_YET_MARKER in line:
            target = not_yet
        name = line.strip()
        if re.fullmatch(r"skbrain(\.[a-z_]+)*", name):
            target.append(name)
    return listed, not_yet


def _public_modules():
    """Every public module and subpackage of the skbrain source tree."""
    package = REPO_ROOT / "skbrain"
    names = {"skbrain"}
    for path in package.iterdir():
        if path.name.startswith(("_", ".")):
            continue
        if path.suffix == ".py":
            names.add(f"skbrain.{path.stem}")
        elif (path / "__init__.py").is_file():
            names.add(f"skbrain.{path.name}")
    return names - NOT_API


def test_api_reference_lists_every_public_module():
    listed, not_yet = _api_modules()
    assert listed[0] == "skbrain"
    assert len(set(listed + not_yet)) == len(listed + not_yet), "a module is listed twice"
    missing = _public_modules() - set(listed) - set(not_yet)
    assert not missing, f"add these modules to docs/api.rst: {sorted(missing)}"


def test_listed_modules_import():
    listed, _ = _api_modules()
    for name in listed:
        importlib.import_module(name)


def _landed(names):
    """The names among ``names`` that import."""
    landed = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        landed.append(name)
    return landed


def test_the_not_importable_yet_check_reads_the_comment_and_catches_a_landed_module():
    # The list of docs/api.rst is empty while every module imports; this runs
    # the check on a list that is not, so it can fail.
    text = (f".. autosummary::\n\n   skbrain\n   skbrain.networks\n\n.. {NOT_YET_MARKER}. "
            "Each line below...\n   skbrain.registry\n   skbrain.not_a_module\n")
    listed, not_yet = _api_modules(text)
    assert listed == ["skbrain", "skbrain.networks"]
    assert not_yet == ["skbrain.registry", "skbrain.not_a_module"]
    assert _landed(not_yet) == ["skbrain.registry"]


def test_modules_marked_not_importable_yet_really_are_not():
    _, not_yet = _api_modules()
    landed = _landed(not_yet)
    assert not landed, (
        f"{landed} import now: move them from the {NOT_YET_MARKER!r} comment of "
        "docs/api.rst into its list"
    )


def test_every_top_level_name_is_documented_in_a_module():
    import skbrain

    listed, _ = _api_modules()
    documented = set()
    for name in listed[1:]:
        documented.update(getattr(importlib.import_module(name), "__all__", ()))
    homeless = [n for n in skbrain.__all__ if not n.startswith("_") and n not in documented]
    assert not homeless, f"{homeless} are exported by skbrain but by no module in docs/api.rst"


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("plot_*.py")), ids=lambda p: p.name)
def test_example_has_a_gallery_title(script):
    source = script.read_text(encoding="utf-8")
    compile(source, str(script), "exec")
    match = re.match(r'"""\n(.+)\n(=+)\n', source)
    assert match, f"{script.name} must start with a docstring whose title is underlined with ="
    assert len(match.group(2)) >= len(match.group(1))


def _copy_sources(destination):
    ignore = shutil.ignore_patterns("_build", "generated", "auto_examples", "__pycache__",
                                    "sg_execution_times.rst")
    shutil.copytree(DOCS, destination / "docs", ignore=ignore)
    shutil.copytree(EXAMPLES, destination / "examples", ignore=ignore)
    shutil.copy(REPO_ROOT / "CHANGELOG.md", destination / "CHANGELOG.md")


@pytest.mark.tier2
def test_docs_build_offline_with_warnings_as_errors(tmp_path):
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme",
                   "sphinx_copybutton"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    # A copy, so that the build never races a `make docs` in the checkout.
    _copy_sources(tmp_path)
    out = tmp_path / "html"
    env = dict(os.environ)
    env.pop("SKBRAIN_DOCS_INTERSPHINX", None)
    env.update(
        SKBRAIN_DOCS_RUN_EXAMPLES="0",
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(tmp_path / "docs"), str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, (
        f"sphinx failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    )

    for page in ("index", "install", "quickstart", "study", "api", "changelog",
                 "user_guide/index", "auto_examples/index", "generated/skbrain",
                 "generated/skbrain.classifiers.WideCNNClassifier"):
        assert (out / f"{page}.html").is_file(), page
    for script in EXAMPLES.glob("plot_*.py"):
        assert (out / "auto_examples" / f"{script.stem}.html").is_file(), script.name
    assert "Unreleased" in (out / "changelog.html").read_text(encoding="utf-8")
    listed, _ = _api_modules()
    for name in listed:
        assert (out / "generated" / f"{name}.html").is_file(), name
