"""Layers only look down: tools/layers.py on this checkout and on a made-up tree."""

import importlib.util
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("layers", ROOT / "tools" / "layers.py")
layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layers)

#: Modules allowed over 700 lines, each with its one-line reason.
LONG_MODULES = {
    "classifiers": "seven estimators with written-out signatures and docstrings "
                   "(tests/test_signatures.py keeps them in step with the catalogue)",
    "pretrained": "four estimators with written-out signatures and docstrings, as classifiers",
    "model_card": "one document's sections (model, training, evaluation, sites, the detector's "
                  "card) beside the helpers they share",
}


@pytest.fixture(scope="module")
def figures():
    return layers.check(ROOT / "skbrain")


def test_no_import_points_up_a_layer(figures):
    assert figures["upward"] == []
    # Each sanctioned exception is still there, so the list cannot go stale.
    assert len(figures["allowed_upward"]) == len(layers.ALLOWED_UPWARD)


def test_every_module_has_a_layer(figures):
    assert figures["unplaced"] == []


def test_no_module_is_long_without_a_reason(figures):
    assert set(figures["over_max_lines"]) <= set(LONG_MODULES), figures["over_max_lines"]


def _tree(tmp_path, files):
    root = tmp_path / "skbrain"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_a_lazy_upward_import_is_caught_and_a_downward_one_is_not(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "from .classifiers import Net\n",
        "_base.py": """
            from ._fileio import atomic_write


            def save(self):
                from .persistence import save_model
                return save_model(self)
            """,
        "_fileio.py": "",
        "classifiers.py": "from ._base import save\nNet = save\n",
        "persistence.py": "from . import _base\n",
        "datasets/__init__.py": "from ._lgg import load\n",
        "datasets/_lgg.py": "from .. import preprocessing\nload = 1\n",
        "preprocessing.py": "",
        "mystery.py": "",
    })
    found = layers.check(root)
    arrows = {(r["importer"], r["imported"]) for r in found["upward"]}
    assert arrows == {("_base", "persistence"), ("datasets._lgg", "preprocessing")}
    assert found["unplaced"] == ["mystery"]
    assert found["lines"] == sum(found["lines_per_module"].values())
