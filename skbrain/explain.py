"""Heat maps of where a fitted network found its evidence, and how well they localise.

Methods (``method=``):

* ``"hirescam"`` (the default for hand-made nets): HiResCAM (Draelos &
  Carin, 2020), the element-wise product of a layer's feature maps and the
  gradient of the class score with respect to them, summed over channels.
  For a head that is linear in globally pooled features, as every skbrain
  network's is, the map adds up to the score itself (less the bias): it
  shows where the evidence is, and is exact for skbrain's ``mean + max``
  pooled heads.
* ``"occlusion"``: the drop in the score when a square patch (an eighth of
  the side) is set to the image's background, slid at half its side
  (Zeiler & Fergus, 2014); through captum.
* ``"integrated_gradients"`` (the default for pretrained backbones):
  integrated gradients (Sundararajan et al., 2017) from a background-valued
  image, summed over channels and smoothed over a sixteenth of the side;
  through captum.

``method="auto"``, the default everywhere, is :func:`default_method`: the
entry of :data:`DEFAULT_METHODS` for the kind of network. Chosen on
LGG-dev's tumor masks with models that never saw LGG-dev: for
EfficientNet-Lite0 trained on the two other collections, integrated
gradients peak on the tumor for 72 % of the slices, HiResCAM for 33 %. For
the hand-made nets integrated gradients point better too (pyramid 87 %
against 22 %, deep 83 % against 37 %) but cost 20 to 40 times as long, which
would put a report on a few hundred slices past minutes on a CPU; HiResCAM
meets the targets on generated lesions. Ask for
``method="integrated_gradients"`` to explain a few images of a hand-made net.

Why these libraries: captum (the PyTorch team's interpretability library)
implements occlusion and integrated gradients with batching and baselines,
so skbrain uses it for them (a dependency); the two
class-activation maps are a few lines of hooks here, because captum has no
HiResCAM and pytorch-grad-cam (``grad-cam``) would bring OpenCV for what is
one product and one sum. Grad-CAM++ was tried and left out: on the wide net
of :class:`Explainer`'s Notes it put more of its mass in the lesion for the
*no tumor* class than for the tumor class, failing the sanity check of
``tests/test_explain.py``. Layer methods explain :func:`default_target_layer`,
chosen per architecture.

``"gradcam"``, Grad-CAM (Selvaraju et al., 2017), each feature map weighed
by its mean gradient, is still accepted (and :class:`GradCAM` kept) for
code written before, but not offered: it equals HiResCAM for a head that
only averages, but a channel read through the global *maximum* gets its
weight spread over the whole map, so where that channel also covers the
rest of the brain the map is negative everywhere and comes out all zero
(see :class:`Explainer`'s Notes); and on a one-layer wide net whose maps
are not empty, its maps keep a rank correlation of 0.55 with those of the
same net with random weights, failing the sanity check of Adebayo et al.
(2018) that the offered methods pass (below 0.3).

Every method explains the same score, the target class's logit minus the
mean of the others (the log-odds for two classes), keeps its positive part
(evidence *for* the class; negative evidence, for the other class, is the
other class's map) and scales each map to [0, 1] on its own (a flat positive
map, as from a layer of one pixel, is uniform: all ones). A map with no
positive value is reported, not hidden: :attr:`Explainer.empty_` flags it
and the figures say so.

Maps come back in each input image's own geometry: the head crop, resize
and padding of the pipeline's :class:`~skbrain.preprocessing.ImageResizer`
are undone (:meth:`~skbrain.preprocessing.ImageResizer.geometry`), so a map
lies on the file the user gave, and :func:`localization_scores` compares it
with a mask of that file.

:class:`Explainer` works on any fitted skbrain estimator, hand-made or
pretrained, and on anything that wraps one (a
:class:`~sklearn.pipeline.Pipeline`, threshold wrappers, searches).
It leaves the network as it found it: hooks are removed, the training mode
is restored and no parameter gradient is stored.
"""

import numbers
import os

import numpy as np

from ._maps import (  # noqa: F401  (re-exported: the public names and what report uses)
    _METHOD_NAMES,
    Explainer,
    GradCAM,
    _check_method,
    default_method,
    default_target_layer,
)
from ._maps import DEFAULT_METHODS as _DEFAULT_METHODS
from ._maps import METHODS as _METHODS
from ._unwrap import default_pos_label, unwrap
from .datasets._folder import class_name

#: The explanation methods, by the name ``method=`` takes.
METHODS = _METHODS
#: What ``method="auto"`` (the default) explains with, by kind of network; chosen on
#: LGG-dev's tumor masks with models that never saw LGG-dev (see the module's description).
DEFAULT_METHODS = _DEFAULT_METHODS

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "Explainer",
    "GradCAM",
    "default_method",
    "default_target_layer",
    "localization_scores",
    "save_gradcam_overlays",
]


def localization_scores(model, images, masks, *, method="auto", target=None, tolerance=15,
                        layer=None, batch_size=32):
    """How well a model's heat maps point at the lesions that masks outline.

    Parameters
    ----------
    model : fitted skbrain estimator, or anything that wraps one
        As for :class:`Explainer`.
    images : list of paths, or array-like of images
        What the model reads; typically tumor images (each mask must
        outline something).
    masks : list of paths or arrays, or array of shape (n, H, W)
        One mask per image, in that image's own size (the size of the file
        given, or of the array when the model takes arrays): a file (read as
        grayscale, pixels above 127 are lesion) or an array (non-zero is
        lesion).
    method : str, default="auto"
        One of :data:`METHODS`, or ``"auto"`` (:func:`default_method`).
    target : label or None, default=None
        The class explained; ``None`` is the positive class (1 for 0/1
        labels, else the later class).
    tolerance : float, default=15
        Pixels (of the image's own geometry) by which the map's peak may miss
        the mask and still count as a hit, as in Zhang et al.'s (2018)
        pointing game.
    layer : str, torch.nn.Module or None, default=None
        See :class:`Explainer`.
    batch_size : int, default=32
        Images per pass.

    Returns
    -------
    dict
        ``pointing_game``
            Share of images whose map's maximum lies inside the mask or
            within ``tolerance`` pixels of it (an empty map is a miss).
        ``mass_ratio``
            Mean over images of the share of the map's mass inside the mask
            divided by the mask's share of the image's area: 1 is what a
            uniform map scores, higher is better (an empty map scores 0).
        ``mass_inside``
            Mean share of the map's mass inside the mask (0 for empty maps).
        ``empty_share``
            Share of maps with no positive value (all zero): images in which
            nothing pointed to the target class.
        ``n``, ``method``, ``tolerance``
            The number of images and the settings used.
        ``per_image``
            A dict of arrays, one entry per image: ``hit``, ``mass_ratio``,
            ``mass_inside``, ``empty``.

    Raises
    ------
    ValueError
        If the numbers of images and masks differ, a mask is empty or its
        shape is not its image's (the message names the index), before any
        map is computed where the masks are files.

    Examples
    --------
    >>> from skbrain import CompactCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> tumor = data.target == 1
    >>> scores = localization_scores(clf, data.data[tumor], data.masks[tumor], tolerance=0)
    >>> sorted(k for k in scores if k != "per_image")
    ['empty_share', 'mass_inside', 'mass_ratio', 'method', 'n', 'pointing_game', 'tolerance']
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or tolerance < 0:
        raise ValueError(f"tolerance must be a number of pixels >= 0; got {tolerance!r}")
    n = len(images)
    if len(masks) != n:
        raise ValueError(f"masks has {len(masks)} entries for {n} images; give one per image")
    if n == 0:
        raise ValueError("images is empty; give at least one image with its mask")
    _check_method(method)
    masks = [_read_mask(m, i) for i, m in enumerate(masks)]
    found = unwrap(model, caller="localization_scores")
    if target is None:
        target = default_pos_label(found.estimator.classes_)
    explainer = Explainer(model, method=method, layer=layer)
    maps = explainer.explain(images, target=target, geometry="input", batch_size=batch_size)
    hit = np.zeros(n, dtype=bool)
    ratio = np.zeros(n)
    inside = np.zeros(n)
    empty = np.zeros(n, dtype=bool)
    for i, (cam, mask) in enumerate(zip(maps, masks, strict=True)):
        if cam.shape != mask.shape:
            raise ValueError(
                f"masks[{i}] has shape {mask.shape}, its image {cam.shape}; a mask must be in "
                "its image's own size"
            )
        total = float(cam.sum())
        if total <= 0:
            empty[i] = True
            continue
        inside[i] = float(cam[mask].sum()) / total
        ratio[i] = inside[i] / mask.mean()
        peak = np.array(np.unravel_index(int(np.argmax(cam)), cam.shape))
        if mask[tuple(peak)]:
            hit[i] = True
        elif tolerance > 0:
            distance = np.sqrt(((np.argwhere(mask) - peak) ** 2).sum(axis=1)).min()
            hit[i] = distance <= tolerance
    return {
        "pointing_game": float(hit.mean()),
        "mass_ratio": float(ratio.mean()),
        "mass_inside": float(inside.mean()),
        "empty_share": float(empty.mean()),
        "n": n,
        "method": explainer.method_,
        "tolerance": float(tolerance),
        "per_image": {"hit": hit, "mass_ratio": ratio, "mass_inside": inside, "empty": empty},
    }


def _read_mask(mask, index):
    if isinstance(mask, (str, bytes, os.PathLike)):
        from PIL import Image

        try:
            with Image.open(mask) as img:
                array = np.asarray(img.convert("L")) > 127
        except (OSError, ValueError) as exc:
            raise ValueError(f"masks[{index}]: cannot read {os.fspath(mask)!r} ({exc})") from None
    else:
        array = np.asarray(mask)
        if array.ndim != 2:
            raise ValueError(f"masks[{index}] must be 2-D (height, width); got shape "
                             f"{array.shape}")
        array = array != 0
    if not array.any():
        raise ValueError(f"masks[{index}] outlines nothing; localisation needs a lesion in "
                         "every mask")
    return array


def save_gradcam_overlays(model, images, output, *, target=None, layer=None, class_names=None,
                          method="auto"):
    """Write one PNG per image: the image, its heat map, the prediction and probability.

    The map lies on the file given (in its own geometry); a map with no
    positive value says so in the title rather than showing nothing.

    Parameters
    ----------
    model : fitted skbrain estimator, or anything that wraps one
        Pipelines, threshold wrappers, fitted searches; the predicted label is
        the whole model's (so a tuned threshold counts).
    images : list of paths
        Image files, read by the model's first step (an ``ImageResizer``).
    output : str or path-like
        Folder for the figures (created if needed); each is named after its
        image, ``<name>.gradcam.png`` (``<name>.<i>.gradcam.png`` when two
        images share a name).
    target : label or None, default=None
        The class whose evidence is shown; ``None`` shows the predicted class
        of each image.
    layer : str or None, default=None
        See :class:`GradCAM`.
    class_names : dict or sequence, default=None
        Display names of the labels, as in :func:`skbrain.plotting.plot_gradcam`.
    method : str, default="auto"
        One of :data:`METHODS`, or ``"auto"`` (:func:`default_method`).

    Returns
    -------
    list of dict
        Per image: ``image``, ``figure`` (the PNG written), ``label`` (predicted),
        ``probability`` (of the predicted label), ``target`` (class shown),
        ``method`` (``"auto"`` resolved) and ``empty`` (True where the map had no
        positive value).
    """
    from collections import Counter
    from pathlib import Path

    from ._fileio import atomic_write
    from .plotting import plot_gradcam

    _check_method(method)
    found = unwrap(model, caller="save_gradcam_overlays")
    classes = np.asarray(found.estimator.classes_)
    paths = [str(p) for p in images]
    if not paths:
        raise ValueError("images is empty; give at least one image file")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"output {str(output)!r} is a file, not a folder")
    proba = np.asarray(model.predict_proba(paths))
    labels = np.asarray(model.predict(paths))
    targets = labels if target is None else np.full(len(paths), target, dtype=object)
    explainer = Explainer(model, method=method, layer=layer)
    heatmaps = explainer.explain(paths, target=targets, geometry="input")
    output.mkdir(parents=True, exist_ok=True)
    stems = Counter(Path(p).stem for p in paths)
    written = []
    import matplotlib.pyplot as plt

    for i, path in enumerate(paths):
        stem = Path(path).stem
        name = f"{stem}.gradcam.png" if stems[stem] == 1 else f"{stem}.{i}.gradcam.png"
        column = int(np.flatnonzero(classes == labels[i])[0])
        # The title is set here: plot_gradcam's own fails without y_true (colour None).
        fig = plot_gradcam([path], heatmaps[i:i + 1], n=1)
        shown = "predicted class" if target is None else f"class {class_name(target, class_names)}"
        note = " - EMPTY: no evidence for it" if explainer.empty_[i] else ""
        how = _METHOD_NAMES[explainer.method_]
        fig.axes[0].set_title(f"predicted: {class_name(labels[i], class_names)} "
                              f"(p={proba[i, column]:.2f})\n{how} of the {shown}{note}",
                              fontsize=10)
        fig.suptitle(Path(path).name, fontsize=9)
        with atomic_write(output / name, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)
        written.append({"image": path, "figure": str(output / name),
                        "label": labels[i].item() if hasattr(labels[i], "item") else labels[i],
                        "probability": float(proba[i, column]),
                        "target": targets[i].item() if hasattr(targets[i], "item")
                        else targets[i], "method": explainer.method_,
                        "empty": bool(explainer.empty_[i])})
    return written
