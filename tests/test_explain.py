"""Explanations: maps on generated lesions, in the input's geometry, localisation scores,
sanity checks (Adebayo et al., 2018), default layers, no state left behind."""

import copy

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from torch import nn

from skbrain import CNNClassifier, CompactCNNClassifier, ImageResizer, WideCNNClassifier
from skbrain.backbones import build_backbone
from skbrain.datasets import make_synthetic_mri
from skbrain.explain import METHODS, Explainer, GradCAM, default_target_layer, localization_scores
from skbrain.networks import ConvNet

SIZE = 48


def blob_scores(heatmaps, masks):
    """Mass inside the blob over the blob's area share, and the peak-in-blob rate."""
    inside = (heatmaps * masks).sum(axis=(1, 2)) / heatmaps.sum(axis=(1, 2)).clip(1e-12)
    ratio = float((inside / masks.mean(axis=(1, 2))).mean())
    peaks = heatmaps.reshape(len(masks), -1).argmax(axis=1)
    hit = float(masks.reshape(len(masks), -1)[np.arange(len(masks)), peaks].mean())
    return ratio, hit


@pytest.fixture(scope="module")
def small():
    data = make_synthetic_mri(16, image_size=32, random_state=0)
    clf = CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    return clf.fit(data.data, data.target), data


def test_maps_of_a_trained_model_cover_the_blob_and_an_untrained_ones_do_not():
    train = make_synthetic_mri(64, image_size=SIZE, random_state=0)
    test = make_synthetic_mri(40, image_size=SIZE, random_state=1)
    positives = test.target == 1
    # The study's one-layer "wide" design with large kernels; the same seed
    # gives the untrained network the trained one started from.
    params = {"architecture": "wide", "n_kernels": 8, "kernel_size": 11, "pool_size": 2,
              "random_state": 1}
    trained = CNNClassifier(lr=0.01, max_epochs=10, **params).fit(train.data, train.target)
    assert (trained.predict(test.data) == test.target).mean() >= 0.9
    untrained = CNNClassifier(lr=1e-9, max_epochs=1, lr_schedule=None, **params)
    untrained.fit(train.data[:8], train.target[:8])

    ratio, hit = blob_scores(GradCAM(trained).explain(test.data[positives]),
                             test.masks[positives])
    base_ratio, base_hit = blob_scores(GradCAM(untrained).explain(test.data[positives]),
                                       test.masks[positives])
    print(f"trained: mass ratio {ratio:.2f}, peak in blob {hit:.0%}; "
          f"untrained: mass ratio {base_ratio:.2f}, peak in blob {base_hit:.0%}")
    assert ratio >= 2.5 and hit >= 0.8
    assert not (base_ratio >= 2.5 and base_hit >= 0.8)


def test_maps_are_float32_in_unit_range_at_input_resolution(small):
    clf, data = small
    heatmaps = GradCAM(clf).explain(data.data[:5])
    assert heatmaps.shape == (5, 32, 32) and heatmaps.dtype == np.float32
    assert heatmaps.min() >= 0 and heatmaps.max() <= 1
    # Two classes: the log-odds of one is minus the other's, so where a map
    # is all zero (no evidence for that class) the other class's is not.
    other = GradCAM(clf).explain(data.data[:5], target=0)
    peaks = np.maximum(heatmaps.reshape(5, -1).max(axis=1), other.reshape(5, -1).max(axis=1))
    np.testing.assert_allclose(peaks, 1)
    # uint8 images are scaled as predict_proba scales them.
    floats = GradCAM(clf).explain(data.data[:5, None].astype(np.float32) / 255)
    np.testing.assert_allclose(heatmaps, floats, atol=1e-5)


def test_pipeline_transforms_first_and_maps_follow_its_size(small):
    _, data = small
    labels = np.where(data.target == 1, "yes", "no")
    pipe = Pipeline([("resize", ImageResizer(40, channels=1)),
                     ("cnn", CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0))])
    pipe.fit(list(data.data), labels)
    cam = GradCAM(pipe)
    heatmaps = cam.explain(list(data.data[:3]))
    assert heatmaps.shape == (3, 40, 40)
    assert cam.layer_name_ == default_target_layer(pipe[-1].module_)
    # Targets are labels: one for all, or one per image.
    no = cam.explain(list(data.data[:3]), target="no")
    assert not np.allclose(no, heatmaps)
    mixed = cam.explain(list(data.data[:3]), target=["no", "yes", "no"])
    np.testing.assert_allclose(mixed[1], heatmaps[1], atol=1e-6)
    np.testing.assert_allclose(mixed[0], no[0], atol=1e-6)
    with pytest.raises(ValueError, match="not one of the estimator's classes"):
        cam.explain(list(data.data[:3]), target="maybe")
    with pytest.raises(ValueError, match="one label per image"):
        cam.explain(list(data.data[:3]), target=["no", "yes"])


def test_no_state_is_left_behind(small):
    clf, data = small
    module = clf.module_
    module.features[0].weight.requires_grad_(False)
    before = clf.predict_proba(data.data)
    flags = {name: p.requires_grad for name, p in module.named_parameters()}
    grads = {name: None if p.grad is None else p.grad.clone()
             for name, p in module.named_parameters()}
    try:
        for training in (True, False):
            module.train(training)
            GradCAM(clf).explain(data.data[:4])
            assert module.training is training
        assert all(not m._forward_hooks and not m._backward_hooks for m in module.modules())
        assert {name: p.requires_grad for name, p in module.named_parameters()} == flags
        for name, p in module.named_parameters():  # no gradient stored or added
            assert (p.grad is None) == (grads[name] is None)
            if p.grad is not None:
                assert torch.equal(p.grad, grads[name])
        np.testing.assert_allclose(clf.predict_proba(data.data), before)
    finally:
        module.features[0].weight.requires_grad_(True)
        module.eval()


def test_a_one_pixel_layer_gives_a_uniform_map_not_stretched_rounding():
    from skbrain.pretrained import ResNetClassifier

    # At 32 px ResNet's layer4 is one pixel: a map with no place in it. The class it
    # speaks for gets a uniform map, the other an empty one, on the CPU as on CUDA.
    data = make_synthetic_mri(8, image_size=32, random_state=0)
    clf = ResNetClassifier(depth=18, pretrained=False, freeze="backbone", max_epochs=1,
                           random_state=0).fit(data.data, data.target)
    cam = GradCAM(clf)
    maps = [cam.explain(data.data[:2], target=t) for t in (0, 1)]
    for i in range(2):
        assert sorted(np.unique(m[i]).tolist() for m in maps) == [[0.0], [1.0]]


def test_a_frozen_backbone_still_gets_maps():
    from skbrain.pretrained import ResNetClassifier

    # 64 px: layer4's maps are 2 x 2 (at 32 px one pixel, a map with no place in it).
    data = make_synthetic_mri(8, image_size=64, random_state=0)
    clf = ResNetClassifier(depth=18, pretrained=False, freeze="backbone", max_epochs=1,
                           random_state=0).fit(data.data, data.target)
    cam = GradCAM(clf)
    heatmaps = [cam.explain(data.data[:2], target=t) for t in (0, 1)]
    assert cam.layer_name_ == "backbone.layer4"
    assert heatmaps[0].shape == (2, 64, 64)
    assert (np.maximum(heatmaps[0], heatmaps[1]).reshape(2, -1).max(axis=1) > 0).all()
    assert not any(p.requires_grad for p in clf.module_.backbone.parameters())
    # method="auto" explains a pretrained backbone by integrated gradients.
    from skbrain.explain import default_method

    assert default_method(clf) == "integrated_gradients"


def test_default_layers_of_hand_made_and_pretrained_networks():
    net = ConvNet(channels=[4, 8, 16], kernel_size=3)
    assert isinstance(net.get_submodule(default_target_layer(net)), nn.ReLU)
    assert default_target_layer(net) == "features.11"  # the last block's ReLU, after its pool
    classic = ConvNet(channels=[4, 8, 16], kernel_size=3, pool_first=False)
    assert default_target_layer(classic) == "features.10"  # the ReLU, not the pool after it
    no_bn = ConvNet(channels=[4], kernel_size=3, batch_norm=False, pool_size=1)
    assert default_target_layer(no_bn) == "features.1"
    assert default_target_layer(build_backbone("resnet18")) == "backbone.layer4"
    effnet = build_backbone("efficientnet_b0")
    name = default_target_layer(effnet)
    assert name == "backbone.features.8.2"  # the head convolution's SiLU, before pooling
    assert isinstance(effnet.get_submodule("backbone.features.8.0"), nn.Conv2d)
    vgg = build_backbone("vgg11")
    name = default_target_layer(vgg)
    convs = [n for n, m in vgg.named_modules() if isinstance(m, nn.Conv2d)]
    assert isinstance(vgg.get_submodule(name), nn.ReLU)
    assert name == convs[-1].rsplit(".", 1)[0] + "." + str(int(convs[-1].rsplit(".", 1)[1]) + 1)
    with pytest.raises(ValueError, match="no Conv2d"):
        default_target_layer(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))


def test_layer_by_name_or_module_and_clear_errors(small):
    clf, data = small
    by_name = GradCAM(clf, layer="features.3").explain(data.data[:2])
    by_module = GradCAM(clf, layer=clf.module_.features[3]).explain(data.data[:2])
    np.testing.assert_allclose(by_name, by_module)
    with pytest.raises(ValueError, match="not a layer of"):
        GradCAM(clf, layer="features.99").explain(data.data[:2])
    with pytest.raises(ValueError, match="not a submodule"):
        GradCAM(clf, layer=nn.Conv2d(1, 1, 3)).explain(data.data[:2])
    with pytest.raises(TypeError, match="layer must be"):
        GradCAM(clf, layer=3).explain(data.data[:2])
    with pytest.raises(ValueError, match="feature maps"):
        GradCAM(clf, layer="head.1").explain(data.data[:2])
    with pytest.raises(NotFittedError):
        GradCAM(CompactCNNClassifier()).explain(data.data[:2])
    with pytest.raises(TypeError, match="GradCAM needs a skbrain estimator.*LogisticRegression"):
        GradCAM(LogisticRegression()).explain(data.data[:2])
    with pytest.raises(ValueError, match="batch_size"):
        GradCAM(clf).explain(data.data[:2], batch_size=0)
    assert torch.is_grad_enabled()


@pytest.fixture(scope="module")
def wide_at_defaults():
    """The issue's case: ImageResizer(64) at its defaults, then the wide net."""
    train = make_synthetic_mri(200, image_size=64, random_state=0)
    test = make_synthetic_mri(40, image_size=64, random_state=1)
    pipe = Pipeline([("resize", ImageResizer(64)),
                     ("cnn", WideCNNClassifier(max_epochs=15, random_state=0))])
    pipe.fit(list(train.data), train.target)
    tumor = test.target == 1
    return pipe, list(test.data[tumor]), test.masks[tumor]


def test_auto_picks_integrated_gradients_for_backbones_and_hirescam_for_hand_made_nets(small):
    from skbrain.explain import DEFAULT_METHODS, default_method

    clf, data = small
    assert default_method(clf) == DEFAULT_METHODS["hand-made"] == "hirescam"
    explainer = Explainer(clf)
    explainer.explain(data.data[:2])
    assert explainer.method == "auto" and explainer.method_ == "hirescam"
    with pytest.raises(NotFittedError):
        default_method(CompactCNNClassifier())


def test_default_maps_localise_generated_lesions(wide_at_defaults):
    pipe, images, masks = wide_at_defaults
    called_tumor = pipe.predict(images) == 1
    assert called_tumor.mean() >= 0.9
    scores = localization_scores(pipe, images, masks, tolerance=0)
    print({k: v for k, v in scores.items() if k != "per_image"})
    assert not scores["per_image"]["empty"][called_tumor].any()
    assert scores["mass_ratio"] >= 2.5 and scores["pointing_game"] >= 0.8
    # Grad-CAM spreads the max-pooled channels' weight over the whole map: the
    # failure HiResCAM, the default, fixes.
    assert localization_scores(pipe, images, masks, method="gradcam")["empty_share"] >= 0.5


def randomised(model):
    model = copy.deepcopy(model)
    torch.manual_seed(0)
    for layer in model[-1].module_.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    return model


def rank_correlation(a, b):
    """Mean Spearman correlation of paired maps, over the pixels where either map is nonzero.

    Zero-clipped CAMs are zero on most of an image: over every pixel, that shared tie
    block alone correlates two unrelated maps (HiResCAM against its randomised net: 0.30
    over all pixels, -0.08 where either is nonzero).
    """
    from scipy.stats import spearmanr

    values = []
    for x, y in zip(a, b, strict=True):
        support = (x != 0) | (y != 0)
        if x[support].std() > 0 and y[support].std() > 0:
            values.append(spearmanr(x[support], y[support])[0])
    return float(np.mean(values)) if values else 0.0


def mass_inside(maps, masks):
    return float(np.mean([(m * k).sum() / max(m.sum(), 1e-12) for m, k in zip(maps, masks,
                                                                            strict=True)]))


# Occlusion and integrated gradients run the network hundreds of times per
# image (over 2 minutes of a loaded two-core run): second tier.
SLOW_METHODS = ("occlusion", "integrated_gradients")


@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.tier2)
                                    if m in SLOW_METHODS else m for m in METHODS])
def test_sanity_checks_of_every_method(wide_at_defaults, method):
    """Adebayo et al. (2018): maps must depend on the weights and on the class."""
    pipe, images, masks = wide_at_defaults
    trained = Explainer(pipe, method).explain(images, target=1)
    random_maps = Explainer(randomised(pipe), method).explain(images, target=1)
    other = Explainer(pipe, method).explain(images, target=0)
    assert rank_correlation(trained, random_maps) < 0.3
    # Where the classes differ (the lesion), the tumor class's map has the mass.
    assert mass_inside(trained, masks) > 2 * mass_inside(other, masks)
    assert rank_correlation(trained, other) < 0.3


def test_maps_lie_on_the_images_given(wide_at_defaults):
    """Each map comes back in its image's own size and place: the crop and resize undone."""
    pipe, images, masks = wide_at_defaults
    rng = np.random.default_rng(0)
    placed, placed_masks = [], []
    for image, mask in zip(images[:8], masks[:8], strict=True):
        height, width = rng.integers(70, 130, size=2)
        top, left = rng.integers(0, height - 63), rng.integers(0, width - 63)
        canvas = np.zeros((height, width), dtype=np.uint8)
        canvas[top:top + 64, left:left + 64] = image
        outline = np.zeros((height, width), dtype=bool)
        outline[top:top + 64, left:left + 64] = mask
        placed.append(canvas)
        placed_masks.append(outline)
    maps = Explainer(pipe).explain(placed)
    assert [m.shape for m in maps] == [c.shape for c in placed]
    for cam, canvas in zip(maps, placed, strict=True):
        assert cam[canvas <= 10].max() < 0.05 or cam[canvas > 10].max() == cam.max()
    scores = localization_scores(pipe, placed, placed_masks, tolerance=0)
    assert scores["pointing_game"] >= 0.8 and scores["mass_ratio"] >= 2.5
    network = Explainer(pipe).explain(placed, geometry="network")
    assert network.shape == (8, 64, 64)


def test_localization_scores_definitions_and_errors(small, tmp_path):
    from PIL import Image

    clf, data = small
    tumor = np.flatnonzero(data.target == 1)[:3]
    images, masks = data.data[tumor], data.masks[tumor]
    scores = localization_scores(clf, images, masks, tolerance=0)
    maps = Explainer(clf).explain(images, target=1)
    per = scores["per_image"]
    # This one-epoch net's tumor maps sit near zero: which come out empty depends on the
    # device's rounding (none on the CPU), so both definitions are checked as they come.
    for i in range(3):
        if per["empty"][i]:
            assert maps[i].max() == 0 and not per["hit"][i]
            assert per["mass_inside"][i] == per["mass_ratio"][i] == 0
            continue
        inside = maps[i][masks[i]].sum() / maps[i].sum()
        assert per["mass_inside"][i] == pytest.approx(inside, rel=1e-5)
        assert per["mass_ratio"][i] == pytest.approx(inside / masks[i].mean(), rel=1e-5)
        assert per["hit"][i] == masks[i].ravel()[maps[i].argmax()]
    assert scores["n"] == 3 and scores["empty_share"] == per["empty"].mean()
    if not torch.cuda.is_available():
        assert scores["empty_share"] == 0
    # A tolerance as wide as the image makes every peak a hit; masks may be files.
    paths = []
    for i, mask in enumerate(masks):
        Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / f"{i}.png")
        paths.append(tmp_path / f"{i}.png")
    wide = localization_scores(clf, images, paths, tolerance=64)
    assert wide["pointing_game"] == 1 - wide["empty_share"]
    with pytest.raises(ValueError, match="2 entries for 3 images"):
        localization_scores(clf, images, masks[:2])
    with pytest.raises(ValueError, match=r"masks\[1\] outlines nothing"):
        localization_scores(clf, images, [masks[0], np.zeros_like(masks[1]), masks[2]])
    with pytest.raises(ValueError, match=r"masks\[0\] has shape \(10, 10\)"):
        localization_scores(clf, images, [np.ones((10, 10))] + list(masks[1:]))
    with pytest.raises(ValueError, match="method must be .auto. or one of"):
        localization_scores(clf, images, masks, method="magic")
    with pytest.raises(ValueError, match="tolerance"):
        localization_scores(clf, images, masks, tolerance=-1)


def test_cli_explain_prints_localisation_and_marks_empty_maps(wide_at_defaults, tmp_path,
                                                              capsys):
    from PIL import Image

    from skbrain.cli import main
    from skbrain.persistence import save_model

    pipe, images, masks = wide_at_defaults
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i, (image, mask) in enumerate(zip(images[:4], masks[:4], strict=True)):
        Image.fromarray(image).save(tmp_path / "images" / f"s{i}.png")
        if i < 3:  # one image without a mask is left out
            Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / "masks" / f"s{i}.png")
    save_model(pipe, tmp_path / "m.skbrain")
    assert main(["explain", str(tmp_path / "m.skbrain"), str(tmp_path / "images"),
                 "--masks", str(tmp_path / "masks")]) == 0
    out = capsys.readouterr().out
    assert "on 3 image(s) with a mask (1 without one left out)" in out
    assert "pointing game  1.000" in out and "empty maps     0.000" in out
    assert main(["explain", str(tmp_path / "m.skbrain"), str(tmp_path / "images" / "s0.png"),
                 "--method", "gradcam", "--output", str(tmp_path / "figs")]) == 0
    assert "s0.gradcam.png" in capsys.readouterr().out
    assert main(["explain", str(tmp_path / "m.skbrain"), str(tmp_path / "images")]) != 0


def test_padding_of_keep_aspect_is_undone(wide_at_defaults):
    pipe, images, masks = wide_at_defaults
    padded = Pipeline([("resize", ImageResizer(64, keep_aspect=True, crop_foreground=False)),
                       ("cnn", pipe[-1])])
    # Wide canvases: the network sees each image in a letterbox, with black above and below.
    canvases = [np.zeros((64, 160), dtype=np.uint8) for _ in images[:6]]
    outlines = [np.zeros((64, 160), dtype=bool) for _ in images[:6]]
    for i, (canvas, outline) in enumerate(zip(canvases, outlines, strict=True)):
        canvas[:, 18 * i:18 * i + 64] = images[i]
        outline[:, 18 * i:18 * i + 64] = masks[i]
    geometry = padded[0].geometry(canvases)
    assert geometry[0].tolist() == [64, 160, 0, 0, 160, 64, 19, 0]  # 26 rows, 19 above
    maps = Explainer(padded).explain(canvases)
    assert maps.shape == (6, 64, 160)
    # The lesions shrink to a few network pixels; were the letterbox not undone, the
    # maps would miss them.
    scores = localization_scores(padded, canvases, outlines)
    assert scores["mass_ratio"] >= 5 and scores["pointing_game"] >= 0.8
