import pytest
import torch

from skbrain.augmentation import MAX_TTA, augment_batch, tta_views


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
