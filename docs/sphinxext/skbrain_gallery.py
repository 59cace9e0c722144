"""A sphinx-gallery image scraper for the figures that skbrain returns.

skbrain's plotting functions build :class:`matplotlib.figure.Figure` objects
without :mod:`matplotlib.pyplot`, so sphinx-gallery's own matplotlib scraper,
which asks pyplot for its open figures, never sees them. This scraper looks
for such figures among an example's variables after each code block and adds
each one to the page once.
"""

from pathlib import PurePosixPath

from sphinx_gallery.scrapers import figure_rst

_SEEN = "_skbrain_seen_figures"


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Save the new pyplot-free figures of an example block and return their reST."""
    from matplotlib.figure import Figure

    # Kept in the per-example variables, so each example starts afresh; the
    # figures themselves are kept so that their ids cannot be reused.
    seen = block_vars.setdefault(_SEEN, [])
    seen_ids = {id(fig) for fig in seen}
    new = [
        value
        for value in list(block_vars["example_globals"].values())
        if isinstance(value, Figure)
        and value.canvas.manager is None
        and id(value) not in seen_ids
    ]
    paths = []
    for fig in new:
        path = PurePosixPath(next(block_vars["image_path_iterator"]))
        fig.savefig(path, **kwargs)
        seen.append(fig)
        paths.append(path)
    if not paths:
        return ""
    return figure_rst(paths, gallery_conf["src_dir"])


# The order a reader meets the examples in; examples not named here follow,
# alphabetically.
EXAMPLE_ORDER = (
    "plot_quickstart.py",
    "plot_compare_models.py",
    "plot_predictions.py",
    "plot_pretrained_finetuning.py",
    "plot_architecture_search.py",
    "plot_wide_search.py",
    "plot_experiment_tracking.py",
    "plot_gradcam.py",
    "plot_thresholds_calibration.py",
)


class ExampleOrder:
    """sphinx-gallery sort key (``within_subsection_order``) following :data:`EXAMPLE_ORDER`."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        try:
            return (EXAMPLE_ORDER.index(filename), filename)
        except ValueError:
            return (len(EXAMPLE_ORDER), filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
