"""One self-contained HTML page that shows what a model does on a folder of images.

:func:`build_report` writes a single ``.html`` file, with every figure and
thumbnail embedded (base64), no server and no external script or style: the
scores with bootstrap intervals over groups, ROC and precision-recall curves,
the confusion matrix, and a table of every image (thumbnail, explanation
overlay, true and predicted label, tumor probability, loss), the most
confident mistakes first, sortable by clicking a column header. Where the
images come in groups that mean something (patients of LGG-dev, DICOM
series), a second table gives one row per group.
"""

import base64
import html
import io
import time
from pathlib import Path

import numpy as np

from ._unwrap import default_pos_label, positive_column, unwrap
from .datasets._folder import class_name
from .sites import grouped_bootstrap

__all__ = ["build_report"]

_SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute("data-order") !== "asc";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-order"); });
      th.setAttribute("data-order", up ? "asc" : "desc");
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: middle; }
th { background: #eee; cursor: pointer; user-select: none; }
th[data-order=asc]::after { content: " \\25B2"; }
th[data-order=desc]::after { content: " \\25BC"; }
tr.wrong td { background: #fde8e8; }
.figures img { height: 260px; margin-right: 1em; }
td img { display: block; }
.note { color: #666; font-size: 0.9em; }
"""


def _png(fig):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _jpeg(rgb):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _thumbnails(path, heatmap, mask, size):
    """(plain, overlay) JPEG data URLs of one image, its map blended in jet, mask in green."""
    from matplotlib import colormaps
    from PIL import Image

    from ._imageio import read_image

    img = read_image(path, mode="L")
    scale = size / max(img.size)
    shape = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    gray = np.asarray(img.resize(shape, Image.Resampling.BILINEAR), dtype=np.float32) / 255
    plain = np.repeat((gray * 255).astype(np.uint8)[..., None], 3, axis=2)
    heat = np.asarray(Image.fromarray(np.asarray(heatmap, dtype=np.float32)).resize(
        shape, Image.Resampling.BILINEAR))
    colour = colormaps["jet"](np.clip(heat, 0, 1))[..., :3]
    alpha = 0.6 * np.clip(heat, 0, 1)[..., None]  # weak evidence stays see-through
    overlay = (1 - alpha) * gray[..., None] + alpha * colour
    if mask is not None:
        small = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(
            shape, Image.Resampling.NEAREST)) > 127
        edge = small & ~(np.roll(small, 1, 0) & np.roll(small, -1, 0)
                         & np.roll(small, 1, 1) & np.roll(small, -1, 1))
        overlay[edge] = (0.0, 1.0, 0.0)
    return _jpeg(plain), _jpeg((np.clip(overlay, 0, 1) * 255).astype(np.uint8))


# The bootstrap's metrics, in numpy: sklearn's checks cost 5-30 ms a call, 500 rounds each.
def _roc_auc(y, score):
    from scipy.stats import rankdata

    ranks = rankdata(score)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _average_precision(y, score):
    order = np.argsort(-score, kind="mergesort")
    y, score = y[order], score[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(y) - 1]
    tps = np.cumsum(y)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0, recall]) * precision))


def _counts(y, pred):
    tp = int(np.sum((y == 1) & (pred == 1)))
    tn = int(np.sum((y == 0) & (pred == 0)))
    return tp, tn, int(np.sum(pred == 1)) - tp, int(np.sum(pred == 0)) - tn


def _ratio(a, b):
    return a / b if b else 0.0


def _scores(y, proba, pred, groups, n_bootstrap, random_state):
    both = len(np.unique(y)) == 2

    def recall(t, p):
        tp, _, _, fn = _counts(t, p)
        return _ratio(tp, tp + fn)

    def specificity(t, p):
        _, tn, fp, _ = _counts(t, p)
        return _ratio(tn, tn + fp)

    def precision(t, p):
        tp, _, fp, _ = _counts(t, p)
        return _ratio(tp, tp + fp)

    def f1(t, p):
        tp, _, fp, fn = _counts(t, p)
        return _ratio(2 * tp, 2 * tp + fp + fn)

    table = [("ROC AUC", _roc_auc, proba, both),
             ("average precision", _average_precision, proba, both),
             ("balanced accuracy", lambda t, p: (recall(t, p) + specificity(t, p)) / 2, pred,
              both),
             ("accuracy", lambda t, p: float(np.mean(t == p)), pred, True),
             ("recall (tumor)", recall, pred, (y == 1).any()),
             ("specificity", specificity, pred, (y == 0).any()),
             ("precision", precision, pred, True),
             ("F1", f1, pred, True)]
    out = []
    for name, metric, score, defined in table:
        if not defined:
            out.append((name, float("nan"), float("nan"), float("nan")))
            continue
        # The same resamples for every metric: one seed, not one stream.
        low, high = grouped_bootstrap(metric, y, score, groups, n_bootstrap=n_bootstrap,
                                      random_state=random_state)
        out.append((name, float(metric(y, score)), low, high))
    return out


def _curves(y, proba, pred, names):
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    from .plotting import _figure

    figures = []
    if len(np.unique(y)) == 2:
        for display in (RocCurveDisplay, PrecisionRecallDisplay):
            fig = _figure(figsize=(4, 4))
            display.from_predictions(y, proba, ax=fig.subplots(), name="model")
            figures.append(_png(fig))
    fig = _figure(figsize=(4, 4))
    ConfusionMatrixDisplay.from_predictions(y, pred, labels=[0, 1], display_labels=names,
                                            ax=fig.subplots(), colorbar=False)
    figures.append(_png(fig))
    return figures


def _load(data):
    """(bunch, masks or None, group kind or None) of a folder or a loaded collection."""
    if not isinstance(data, (str, Path)):
        return data, data.get("masks"), data.get("group_kind") or _group_kind(data)
    folder = Path(data)
    manifest = folder / "MANIFEST.csv"
    if manifest.is_file() and "patient" in manifest.open().readline().split(","):
        from .datasets import load_lgg_flair

        bunch = load_lgg_flair(folder)
        return bunch, bunch.masks, "patient"
    if any(p.name.endswith((".nii", ".nii.gz")) for p in folder.rglob("*.nii*")):
        from .datasets import load_nifti

        bunch = load_nifti(folder)
        return bunch, None, _group_kind(bunch)
    from .datasets import load_images

    bunch = load_images(folder)
    return bunch, None, "patient" if bunch.kind == "dicom" else None


def _group_kind(bunch):
    """What a group of :func:`~skbrain.datasets.load_nifti`'s or ``load_dicom``'s slices is."""
    groups = [str(g) for g in bunch.get("groups", ())]
    if not groups or "volume" not in bunch and not groups[0].startswith("patient:"):
        return None
    # load_nifti names a patient only where the path has a BIDS subject; else each volume.
    return "patient" if all(g.startswith("patient:") for g in groups) else "scan"


def build_report(model, data, output, *, method="auto", n_bootstrap=500, thumb_size=96,
                 batch_size=32, random_state=0):
    """Write an HTML page of a two-class model's results on a collection of images.

    Parameters
    ----------
    model : fitted skbrain estimator, or anything that wraps one, taking image paths
        For example a model loaded with :func:`skbrain.load_model` or
        :func:`skbrain.load_pretrained`.
    data : str, path-like or Bunch
        A folder of class sub-folders (``yes/`` and ``no/``, or a DICOM
        folder, read with :func:`skbrain.datasets.load_images`: one row per
        patient), a folder of NIfTI volumes in class sub-folders (read with
        :func:`skbrain.datasets.load_nifti` at its defaults: one row per scan,
        or per patient where the paths name BIDS subjects), LGG-dev's
        folder (it has a ``MANIFEST.csv``; read with
        :func:`skbrain.datasets.load_lgg_flair`: groups are patients and the
        tumor masks are drawn on the overlays), or a loaded collection with
        ``data`` (paths), ``target`` (0/1), ``groups`` and optionally
        ``masks`` and ``group_kind`` (the name of a group, such as
        ``"patient"``, for one row per group).
    output : str or path-like
        The ``.html`` file to write.
    method : str, default="auto"
        The explanation method, one of :data:`skbrain.explain.METHODS`, or
        ``"auto"`` (:func:`skbrain.explain.default_method`).
    n_bootstrap : int, default=500
        Rounds of the bootstrap over groups for the 95 % intervals.
    thumb_size : int, default=96
        Longest side of the thumbnails, in pixels.
    batch_size : int, default=32
        Images per pass of the explanation.
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``path`` (the page), ``n_images``, ``n_groups``, ``scores`` (name to
        (value, low, high)), ``n_empty_maps`` and ``seconds``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from sklearn.pipeline import Pipeline
    >>> from skbrain import ImageResizer, SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> from sklearn.utils import Bunch
    >>> folder = tempfile.mkdtemp()
    >>> data = make_synthetic_mri(8, image_size=32, random_state=0)
    >>> paths = []
    >>> for i, image in enumerate(data.data):
    ...     paths.append(os.path.join(folder, f"{i}.png"))
    ...     Image.fromarray(image).save(paths[-1])
    >>> model = Pipeline([("resize", ImageResizer(32)),
    ...                   ("cnn", SimpleCNNClassifier(max_epochs=1, random_state=0))])
    >>> model = model.fit(paths, data.target)
    >>> collection = Bunch(data=paths, target=data.target, groups=np.arange(8))
    >>> result = build_report(model, collection, os.path.join(folder, "report.html"),
    ...                       n_bootstrap=20)
    >>> result["n_images"], os.path.getsize(result["path"]) > 10_000
    (8, True)
    """
    from sklearn.base import clone

    from ._maps import Explainer, _check_method
    from .preprocessing import ImageResizer

    start = time.perf_counter()
    _check_method(method)
    output = Path(output)
    if output.is_dir():
        raise ValueError(f"output {str(output)!r} is a folder; give a file name such as "
                         "report.html")
    found = unwrap(model, caller="build_report")
    classes = np.asarray(found.estimator.classes_)
    if len(classes) != 2:
        raise ValueError(f"build_report needs a two-class model; this one has classes "
                         f"{classes.tolist()}")
    bunch, masks, group_kind = _load(data)
    paths = [str(p) for p in bunch.data]
    if not paths:
        raise ValueError("data holds no image")
    y = np.asarray(bunch.target).astype(int)
    groups = np.asarray(bunch["groups"]) if "groups" in bunch else np.arange(len(paths))
    if "patient" in bunch:  # LGG-dev: patients by their ids
        groups = np.asarray(bunch["patient"])
    pos = default_pos_label(classes)
    # The images are read once, on every core, and the network's input reused.
    steps = [(name, clone(step).set_params(n_jobs=-1) if isinstance(step, ImageResizer)
              else step) for name, step in found.steps]
    X = paths
    for _, step in steps:
        X = step.transform(X)
    if found.threshold is None and found.calibration is None:
        proba = np.asarray(found.estimator.predict_proba(X))
        labels = classes[np.argmax(proba, axis=1)]  # the estimator's predict, without a rerun
    else:  # the wrapper decides: ask the whole model
        proba, labels = np.asarray(model.predict_proba(paths)), np.asarray(model.predict(paths))
    proba = proba[:, positive_column(classes, pos)]
    pred = (labels == pos).astype(int)
    explainer = Explainer(model, method=method)
    resizer = steps[0][1] if steps and isinstance(steps[0][1], ImageResizer) else None
    maps = explainer._explain(found, X, paths,
                              np.where(pred == 1, pos, classes[classes != pos][0]), "input",
                              batch_size, resizer=resizer)
    empty = explainer.empty_
    names = [class_name(c) for c in (0, 1)]
    scores = _scores(y, proba, pred, groups, n_bootstrap, random_state)
    figures = _curves(y, proba, pred, names)
    p_true = np.where(y == 1, proba, 1 - proba)
    loss = -np.log(np.clip(p_true, 1e-7, 1))
    order = np.argsort(-loss, kind="stable")

    rows = []
    for rank, i in enumerate(order):
        mask = None
        if masks is not None and masks[i]:
            from PIL import Image

            with Image.open(masks[i]) as m:
                mask = np.asarray(m.convert("L")) > 127
        plain, overlay = _thumbnails(paths[i], maps[i], mask, thumb_size)
        wrong = y[i] != pred[i]
        note = "<br><span class='note'>empty map</span>" if empty[i] else ""
        cells = [(rank + 1, str(rank + 1)),
                 (rank + 1, f"<img src='{plain}' alt='image {i}'>"),
                 (int(empty[i]), f"<img src='{overlay}' alt='explanation {i}'>{note}"),
                 (Path(paths[i]).name, html.escape(Path(paths[i]).name)),
                 (str(groups[i]), html.escape(str(groups[i]))),
                 (names[y[i]], names[y[i]]), (names[pred[i]], names[pred[i]]),
                 (f"{proba[i]:.6f}", f"{proba[i]:.3f}"), (f"{loss[i]:.6f}", f"{loss[i]:.2f}")]
        rows.append(f"<tr class='{'wrong' if wrong else 'right'}'>" + "".join(
            f"<td data-v='{html.escape(str(v), quote=True)}'>{c}</td>" for v, c in cells)
            + "</tr>")
    how = html.escape(_method_name(explainer.method_))
    heads = ["rank", "image", f"{how} (of the predicted class)",
             "file", "group", "true", "predicted", "p(tumor)", "loss"]
    image_table = _table("images", heads, rows)

    group_table = ""
    n_groups = len(np.unique(groups))
    if group_kind:
        group_rows = []
        for g in np.unique(groups):
            members = groups == g
            true, called = int(y[members].max()), int(pred[members].max())
            cells = [(str(g), html.escape(str(g))), (int(members.sum()), int(members.sum())),
                     (int(y[members].sum()), int(y[members].sum())),
                     (int(pred[members].sum()), int(pred[members].sum())),
                     (names[true], names[true]), (names[called], names[called]),
                     (f"{proba[members].max():.6f}", f"{proba[members].max():.3f}")]
            group_rows.append(f"<tr class='{'wrong' if true != called else 'right'}'>"
                              + "".join(f"<td data-v='{html.escape(str(v), quote=True)}'>{c}"
                                        "</td>" for v, c in cells) + "</tr>")
        kind = html.escape(group_kind)
        group_table = (f"<h2>Per {kind}</h2><p class='note'>A {kind} is tumor when one of its "
                       "images is; called tumor when the model calls one of them tumor.</p>"
                       + _table("groups", [kind, "images", "tumor images", "called tumor",
                                           "true", "predicted", "max p(tumor)"], group_rows))
    score_rows = "".join(
        f"<tr><td>{name}</td><td>{value:.3f}</td><td>{low:.3f} – {high:.3f}</td></tr>"
        for name, value, low, high in scores)
    kind_note = f"{n_groups} groups" + (f" ({html.escape(group_kind)}s)" if group_kind else "")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>skbrain report</title>
<style>{_STYLE}</style></head><body>
<h1>skbrain report</h1>
<p>{len(paths)} images, {int((y == 1).sum())} with tumor, {kind_note};
model {html.escape(type(found.estimator).__name__)}; explanations by
{how} ({int(empty.sum())} empty: no evidence for the predicted
class). Written {time.strftime("%Y-%m-%d %H:%M")}.</p>
<h2>Scores</h2>
<p class="note">95 % intervals: bootstrap over groups ({n_bootstrap} rounds).</p>
<table id="scores"><thead><tr><th>score</th><th>value</th><th>95 % interval</th></tr></thead>
<tbody>{score_rows}</tbody></table>
<div class="figures">{"".join(f"<img src='{f}' alt='figure'>" for f in figures)}</div>
{group_table}
<h2>Images</h2>
<p class="note">Most confident mistakes first (highest loss, -log of the probability given to
the true class); mistakes are shaded. Click a column header to sort. Overlays: the map of
the predicted class{"; tumor masks outlined in green" if masks is not None else ""}.</p>
{image_table}
<script>{_SORT_JS}</script>
</body></html>
"""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return {"path": str(output), "n_images": len(paths), "n_groups": n_groups,
            "scores": {name: (value, low, high) for name, value, low, high in scores},
            "n_empty_maps": int(empty.sum()), "seconds": time.perf_counter() - start}


def _method_name(method):
    from ._maps import _METHOD_NAMES

    return _METHOD_NAMES[method]


def _table(table_id, heads, rows):
    head = "".join(f"<th>{h}</th>" for h in heads)
    return (f"<table id='{table_id}' class='sortable'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
