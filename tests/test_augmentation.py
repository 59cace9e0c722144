import pytest
import torch

from skbrain.augmentation import MAX_TTA, augment_batch, synthetic_lesions, tta_views
from skbrain.datasets import make_synthetic_mri


def test_augment_batch_keeps_shape_and_changes_images():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 24, 24)
    out = augment_batch(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not torch.allclose(out, x)


def test_augment_batch_is_repeatable_under_a_seed():
    x = torch.rand(4, 1, 16, 16)
    torch.manual_seed(3)
    a = augment_batch(x)
    torch.manual_seed(3)
    b = augment_batch(x)
    assert torch.equal(a, b)


def test_augment_without_any_transform_is_the_identity():
    x = torch.rand(4, 1, 16, 16)
    out = augment_batch(x, flip=False, max_rotation=0, max_scale=0, max_shift=0, intensity=0)
    assert torch.allclose(out, x, atol=1e-5)


def test_tta_views_are_label_preserving_permutations():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    views = tta_views(MAX_TTA)
    assert len(views) == MAX_TTA + 1
    assert torch.equal(views[0](x), x)
    outputs = {tuple(v(x).flatten().tolist()) for v in views}
    assert len(outputs) == 8  # the eight symmetries of a square are all distinct
    for v in views:
        assert sorted(v(x).flatten().tolist()) == sorted(x.flatten().tolist())


@pytest.mark.parametrize("bad", [-1, MAX_TTA + 1])
def test_tta_views_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="tta must be an integer"):
        tta_views(bad)


def _heads(n=8, size=48):
    grey = torch.tensor(make_synthetic_mri(n, image_size=size, random_state=0).data) / 255.0
    return grey[:, None].repeat(1, 3, 1, 1)


def test_synthetic_lesions_paint_one_region_inside_the_head_only():
    x = _heads()
    torch.manual_seed(0)
    out, painted = synthetic_lesions(x)
    assert out.shape == x.shape and out.dtype == x.dtype and painted.all()
    low = x.amin(dim=(1, 2, 3), keepdim=True)
    unit = (x - low) / (x.amax(dim=(1, 2, 3), keepdim=True) - low)
    outside = unit.mean(1, keepdim=True).expand_as(x) <= 0.1
    torch.testing.assert_close(out[outside], x[outside])  # the background is never painted
    changed = (out - x).abs().amax(1) > 0.02
    share = changed.flatten(1).float().mean(1)
    # A blob, not the whole head: 4-14 % of the side as radii is at most ~6 % of the image.
    assert (share > 0).all() and (share < 0.2).all()
    # Every channel gets the same blob.
    torch.testing.assert_close(out[:, 0] - x[:, 0], out[:, 1] - x[:, 1])


def test_synthetic_lesions_are_bright_unless_dark_ones_are_asked_for():
    x = _heads(8)
    torch.manual_seed(1)
    bright, _ = synthetic_lesions(x)
    dark, _ = synthetic_lesions(x, dark_fraction=1.0)
    # The painted change summed over each image: bright blobs raise it, dark ones lower it.
    assert ((bright - x).flatten(1).sum(1) > 0).all()
    assert ((dark - x).flatten(1).sum(1) < 0).all()


def test_synthetic_lesions_any_range_repeatable_and_empty_images_left_alone():
    x = _heads(4)
    x[3] = 0  # no head to paint into
    torch.manual_seed(5)
    a, painted = synthetic_lesions(x)
    assert painted.tolist() == [True, True, True, False] and torch.equal(a[3], x[3])
    torch.manual_seed(5)
    z, _ = synthetic_lesions(x * 4 - 2)  # z-score-like range: the same picture, scaled
    torch.testing.assert_close(z, a * 4 - 2, atol=1e-4, rtol=1e-4)
    torch.manual_seed(6)
    assert not torch.equal(synthetic_lesions(x)[0], a)
