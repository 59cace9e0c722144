import pytest
import torch

from skbrain.networks import (
    ARCHITECTURES,
    ConvNet,
    block_layout,
    conv_channels,
    count_parameters,
)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_builds_and_runs_on_any_size(architecture):
    channels = conv_channels(architecture, 8)
    net = ConvNet(in_channels=3, channels=channels, kernel_size=3, pool_size=2,
                  **block_layout(architecture))
    for size in (1, 7, 40):
        out = net(torch.rand(2, 3, size, size))
        assert out.shape == (2, 2)
        assert torch.isfinite(out).all()


def test_conv_channels_follow_the_study_designs():
    assert conv_channels("wide", 40) == [40]
    assert conv_channels("deep", 8) == [8, 16, 32]
    assert conv_channels("pyramid", 64) == [64, 32, 16]
    assert conv_channels("two-conv", 10) == [10, 20]
    assert conv_channels("compact", 4) == [4, 8, 16, 32]


def test_conv_channels_rejects_unknown_architecture_and_bad_width():
    with pytest.raises(ValueError, match="architecture must be one of"):
        conv_channels("huge", 8)
    with pytest.raises(ValueError, match="n_kernels must be a positive integer"):
        conv_channels("wide", 0)


def test_convnet_validates_its_arguments():
    with pytest.raises(ValueError, match="dropout"):
        ConvNet(dropout=1.0)
    with pytest.raises(ValueError, match="global_pool"):
        ConvNet(global_pool="sum")


def test_global_pool_modes_change_the_head_width():
    assert ConvNet(channels=[5], global_pool="catavgmax").head[1].in_features == 10
    assert ConvNet(channels=[5], global_pool="avg").head[1].in_features == 5


def test_count_parameters_counts_trainable_separately():
    net = ConvNet(in_channels=1, channels=[4], kernel_size=3)
    total = count_parameters(net)
    for p in net.features.parameters():
        p.requires_grad_(False)
    assert count_parameters(net, trainable_only=True) == total - sum(
        p.numel() for p in net.features.parameters()
    )


@pytest.mark.parametrize("architecture", ["wide", "compact"])
def test_channels_last_gives_the_same_outputs(architecture):
    from skbrain.networks import ARCHITECTURE_DEFAULTS

    d = ARCHITECTURE_DEFAULTS[architecture]
    x = torch.rand(3, 3, 40, 40)
    outputs = []
    for channels_last in (True, False):
        torch.manual_seed(0)
        net = ConvNet(3, 2, conv_channels(architecture, d["n_kernels"]), d["kernel_size"],
                      d["pool_size"], **block_layout(architecture),
                      channels_last=channels_last).train()
        out = net(x)
        out.sum().backward()
        outputs.append((out.detach(), net.features[0].weight.grad.contiguous()))
    torch.testing.assert_close(outputs[0][0], outputs[1][0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(outputs[0][1], outputs[1][1], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("architecture", ["wide", "deep", "compact"])
def test_pool_first_computes_the_same_function_for_the_same_weights(architecture):
    # Max pooling commutes with ReLU and with an increasing affine map, so in
    # inference mode (fixed statistics, positive scales) moving the pooling in
    # front of batch norm changes the cost, not the output.
    channels = conv_channels(architecture, 6)
    blocks = 2 if architecture == "compact" else 1
    torch.manual_seed(0)
    late = ConvNet(3, 2, channels, 3, 2, convs_per_block=blocks, pool_first=False).eval()
    for bn in (m for m in late.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.weight.data.uniform_(0.5, 2.0)
        bn.bias.data.normal_()
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    early = ConvNet(3, 2, channels, 3, 2, convs_per_block=blocks, pool_first=True).eval()
    weighted = (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear)
    sources = [m for m in late.modules() if isinstance(m, weighted)]
    targets = [m for m in early.modules() if isinstance(m, weighted)]
    for source, target in zip(sources, targets, strict=True):
        target.load_state_dict(source.state_dict())

    order = [type(m).__name__ for m in early.features]
    assert order[:4] == (["Conv2d", "_ClampedMaxPool", "BatchNorm2d", "ReLU"] if blocks == 1
                         else ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d"])
    assert [type(m).__name__ for m in late.features][:4] == (
        ["Conv2d", "BatchNorm2d", "ReLU", "_ClampedMaxPool"] if blocks == 1
        else ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d"])
    x = torch.rand(4, 3, 24, 24)
    torch.testing.assert_close(early(x), late(x), rtol=1e-4, atol=1e-5)


def test_first_block_convs_sets_the_full_resolution_convolutions_only():
    def convs(net):
        return [m for m in net.features if isinstance(m, torch.nn.Conv2d)]

    channels = [8, 16, 32]
    default = ConvNet(channels=channels, kernel_size=3, pool_size=2, convs_per_block=2)
    lighter = ConvNet(channels=channels, kernel_size=3, pool_size=2, convs_per_block=2,
                      first_block_convs=1)
    assert [c.out_channels for c in convs(default)] == [8, 8, 16, 16, 32, 32]
    assert [c.out_channels for c in convs(lighter)] == [8, 16, 16, 32, 32]
    assert lighter(torch.zeros(2, 3, 40, 40)).shape == (2, 2)
    with pytest.raises(ValueError, match="first_block_convs"):
        ConvNet(channels=channels, first_block_convs=0)


def test_residual_blocks_add_their_input_before_the_last_relu():
    torch.manual_seed(0)
    net = ConvNet(channels=[8, 16, 16], kernel_size=3, pool_size=2, convs_per_block=2,
                  first_block_convs=1, residual=True, channels_last=False).eval()
    blocks = [m for m in net.features if type(m).__name__ == "_ResidualBlock"]
    assert len(blocks) == 2  # the one-convolution first block stays plain
    projected, same_width = blocks
    assert isinstance(projected.shortcut, torch.nn.Sequential)
    assert isinstance(same_width.shortcut, torch.nn.Identity)
    x = torch.randn(2, 16, 10, 10)
    expected = torch.relu(same_width.body(x) + x)
    torch.testing.assert_close(same_width(x), expected)
    assert net(torch.zeros(2, 3, 40, 40)).shape == (2, 2)


def test_avgmax_is_the_deprecated_name_of_catavgmax():
    torch.manual_seed(0)
    new = ConvNet(channels=[5], global_pool="catavgmax")
    with pytest.warns(FutureWarning, match='"avgmax" is deprecated.*"catavgmax"'):
        old = ConvNet(channels=[5], global_pool="avgmax")
    old.load_state_dict(new.state_dict())
    x = torch.rand(2, 3, 16, 16)
    assert old.global_pool == "catavgmax"
    assert torch.equal(old.eval()(x), new.eval()(x))


def test_a_registered_architecture_reaches_every_list():
    """The residual net is one registration in networks.py; nothing else names it."""
    import numpy as np

    import skbrain.networks
    from skbrain.networks import _ResidualBlock
    from skbrain.registry import build_module, get_estimator, list_models
    from skbrain.search import default_search_space

    clf = get_estimator("residual", n_kernels=4, max_epochs=2, batch_size=8, random_state=0,
                        device="cpu")
    assert type(clf).__name__ == "CNNClassifier" and clf.architecture == "residual"
    module = build_module(clf, device="cpu")
    assert sum(isinstance(m, _ResidualBlock) for m in module.modules()) == 3
    assert "residual" in list_models() and "``residual``" in skbrain.networks.__doc__
    assert default_search_space(clf)["kernel_size"] == [3, 5]
    rng = np.random.RandomState(0)
    X = rng.rand(16, 1, 16, 16).astype(np.float32)
    y = np.array([0, 1] * 8)
    X[y == 1, :, 4:12, 4:12] += 1.0
    proba = clf.fit(X, y).predict_proba(X)
    assert proba.shape == (16, 2) and np.allclose(proba.sum(1), 1)
