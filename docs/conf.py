"""Sphinx configuration of the skbrain documentation.

Build with ``make docs`` (``python -m sphinx -W --keep-going -b html docs
docs/_build/html``). The build works offline with warnings as errors.
Environment variables:

``SKBRAIN_DOCS_RUN_EXAMPLES=0``
    Render the gallery without running the examples (fast; used by
    ``tests/test_docs.py``). By default every ``examples/plot_*.py`` runs.
``SKBRAIN_DOCS_INTERSPHINX=1``
    Link to the sklearn, skorch, torch, numpy and Python documentation. This
    fetches their inventories over the network, so it is off by default (an
    offline fetch would fail the ``-W`` build); the docs workflow turns it on.
"""

import importlib
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The package is imported from the checkout when there is one beside this
# folder, else from wherever it is installed.
if (HERE.parent / "skbrain" / "__init__.py").is_file():
    sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "sphinxext"))

from skbrain._version import __version__  # noqa: E402

project = "skbrain"
author = "The skbrain developers"
copyright = "the skbrain developers"
release = __version__
version = re.match(r"\d+\.\d+", release).group(0)

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
default_role = "literal"
pygments_style = "sphinx"

# -- API reference ------------------------------------------------------------
# api.rst lists the modules; their pages, and one page per public name, are
# generated from each module's __all__ on every build.
autosummary_generate = True
autosummary_ignore_module_all = False
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True


def _public_home():
    """Map each top-level name of ``skbrain`` to the documented module that exports it.

    Names are relative to ``skbrain`` (``classifiers.WideCNNClassifier``), as
    autosummary wants them on the ``skbrain`` page.

    The top-level page links to those pages instead of documenting every
    class twice (which Sphinx would report as a duplicate description).
    """
    listed = (HERE / "api.rst").read_text(encoding="utf-8").split("NOT IMPORTABLE YET")[0]
    modules = [
        line.strip()
        for line in listed.splitlines()
        if re.fullmatch(r"skbrain\.[a-z_.]+", line.strip())
    ]
    try:
        top = importlib.import_module("skbrain")
    except ImportError:
        return []
    homes = []
    for name in getattr(top, "__all__", []):
        if name.startswith("_"):
            continue
        for module_name in modules:
            module = importlib.import_module(module_name)
            if name in getattr(module, "__all__", ()):
                homes.append(f"{module_name.removeprefix('skbrain.')}.{name}")
                break
        else:
            homes.append(name)
    return homes


autosummary_context = {"skbrain_exports": _public_home()}

# -- Cross-links ---------------------------------------------------------------
intersphinx_mapping = {}
if os.environ.get("SKBRAIN_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable/", None),
        "torch": ("https://docs.pytorch.org/docs/stable/", None),
    }
intersphinx_timeout = 10

# -- Example gallery -----------------------------------------------------------
_run_examples = os.environ.get("SKBRAIN_DOCS_RUN_EXAMPLES", "1").lower() not in {
    "0",
    "false",
    "no",
}
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": re.escape(os.sep) + "plot_",
    "plot_gallery": _run_examples,
    "within_subsection_order": "skbrain_gallery.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    # skbrain's plotting functions do not use pyplot; this finds their figures.
    "image_scrapers": ("matplotlib", "skbrain_gallery.figure_scraper"),
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skbrain {release}"
html_theme_options = {
    "github_url": "https://github.com/skbrain/skbrain",
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {"install": [], "quickstart": [], "study": [], "changelog": []}
html_show_sourcelink = True
html_copy_source = True
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True


# sklearn adds metadata-routing methods (set_fit_request, ...) to every
# estimator class; their docstrings point into sklearn's own documentation.
_SKLEARN_PLUMBING = re.compile(r"^(set_\w+_request|get_metadata_routing)$")


def _skip_plumbing(app, what, name, obj, skip, options):
    if _SKLEARN_PLUMBING.match(name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_plumbing)
