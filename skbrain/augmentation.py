"""Image transforms of training batches and the fixed views of test-time augmentation.

All keep the label but :func:`synthetic_lesions`, which paints a lesion into
tumor-free images for the estimators' ``augment_lesions`` to train on as tumor.

All work on batches of tensors ``(n, c, h, w)`` already on the training
device, so augmentation costs no extra data-loading work and runs on the GPU
when training does. Randomness comes from torch's global generator, which the
estimators seed (inside :func:`torch.random.fork_rng`) from ``random_state``.
"""

import math

import torch
from torch.nn import functional as F

__all__ = ["augment_batch", "scanner_augment", "synthetic_lesions", "tta_views", "MAX_TTA"]


def augment_batch(x, *, flip=True, max_rotation=10.0, max_scale=0.1, max_shift=0.05,
                  intensity=0.1):
    """Randomly flip, rotate, scale, shift and re-light a batch of images.

    Every transform keeps the label: a tumor stays in the picture (shifts and
    zooms are small), and brains are roughly left-right symmetric, so only
    horizontal flips are used.

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
        Float images, roughly in [0, 1].
    flip : bool, default=True
        Mirror half of the images left to right.
    max_rotation : float, default=10.0
        Largest rotation, in degrees, either way.
    max_scale : float, default=0.1
        Largest relative zoom in or out.
    max_shift : float, default=0.05
        Largest shift as a fraction of the image side.
    intensity : float, default=0.1
        Largest relative change of contrast and of brightness.

    Returns
    -------
    torch.Tensor
        A new tensor of the same shape and dtype.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> augment_batch(torch.rand(8, 3, 32, 32)).shape
    torch.Size([8, 3, 32, 32])
    """
    n = x.shape[0]
    device, dtype = x.device, x.dtype

    def uniform(limit):
        return (torch.rand(n, device=device, dtype=dtype) * 2 - 1) * limit

    angle = uniform(math.radians(max_rotation))
    scale = 1 + uniform(max_scale)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    mirror = torch.ones(n, device=device, dtype=dtype)
    if flip:
        mirror = torch.where(torch.rand(n, device=device) < 0.5, -mirror, mirror)
    theta = torch.stack(
        [
            torch.stack([cos * mirror, -sin, uniform(2 * max_shift)], dim=1),
            torch.stack([sin * mirror, cos, uniform(2 * max_shift)], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if intensity:
        contrast = (1 + uniform(intensity)).view(n, 1, 1, 1)
        brightness = uniform(intensity).view(n, 1, 1, 1)
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (out - mean) * contrast + mean + brightness
    return out


def scanner_augment(x, strength=0.5):
    """Randomly change how a scanner would have rendered each image of a batch.

    Each image gets its own draw of every change, scaled by ``strength``:
    gamma (a power of the intensities, ``exp(±0.4 s)``), contrast (``1 ± 0.3 s``),
    a smooth multiplicative bias field (``exp`` of a random 3x3 field upsampled,
    up to ``±0.3 s``), Gaussian blur (sigma up to ``1.5 s`` pixels) and Gaussian
    noise (sd up to ``0.05 s`` of the image's range). Intensities are mapped to
    each image's own [min, max] for the gamma and back, so any input range works
    (uint8/255, z-scores). torchvision's ``transforms.v2`` functional ops take one
    parameter per call, not one per image of a batch, hence this code.

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
        Float images.
    strength : float, default=0.5
        From 0 (the identity) to 1 (the strongest changes above).

    Returns
    -------
    torch.Tensor
        A new tensor of the same shape and dtype (``x`` itself when ``strength`` is 0).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> scanner_augment(torch.rand(4, 1, 32, 32), 0.5).shape
    torch.Size([4, 1, 32, 32])
    """
    if not strength:
        return x
    n, c, h, w = x.shape
    device, dtype = x.device, x.dtype

    def uniform(limit, *shape):
        return (torch.rand(n, *shape, device=device, dtype=dtype) * 2 - 1) * limit

    low, span = _range(x)
    unit = (x - low) / span
    unit = _gamma(unit, torch.exp(uniform(0.4 * strength)))
    field = F.interpolate(uniform(0.3 * strength, 1, 3, 3), size=(h, w), mode="bilinear",
                          align_corners=True)
    unit = unit * torch.exp(field)
    mean = unit.mean(dim=(1, 2, 3), keepdim=True)
    unit = (unit - mean) * (1 + uniform(0.3 * strength)).view(n, 1, 1, 1) + mean
    unit = _blur(unit, torch.rand(n, device=device, dtype=dtype) * 1.5 * strength)
    unit = unit + torch.randn_like(unit) * (torch.rand(n, 1, 1, 1, device=device, dtype=dtype)
                                            * 0.05 * strength)
    return unit * span + low


def synthetic_lesions(x, *, dark_fraction=0.0):
    """Paint one random lesion-like blob inside the head of each image of a batch.

    A tumor-free slice with a blob becomes a made-up tumor slice: a model
    trained on both learns that a focal region unlike the tissue around it
    means tumor, whatever the sequence or scanner, which the collections'
    own tumors (mostly large, T1-weighted, mid-brain) do not teach on their
    own. Each blob is an ellipse of 4-14 % of the image side, its outline
    bent by smooth noise and its edge soft, centred where the head (above
    a tenth of the image's range) fills the neighbourhood; it is bright (the
    head's 99th percentile, times 0.85-1.15, as FLAIR and T2 show tumors and
    oedema) or, for ``dark_fraction`` of them, dark (its 10th percentile, times
    0.5-1), with a mottled texture, blended in at 50-100 %. Intensities are
    mapped to each image's own [min, max] and back, like
    :func:`scanner_augment`.

    Bright only by default: dark blobs look like the ventricles and CSF of
    T1-weighted slices, and with a quarter of them a model trained on the 253
    and LGG-dev called many of the 1,794's tumor-free T1 slices tumor. Left out
    of training, seeds 3 / 4, the 1,794 scored ROC AUC 0.85 / 0.84 with
    bright blobs only against 0.75 / 0.76, and LGG-dev 0.82 / 0.77 against
    0.78 / 0.73 (``benchmarks/README.md``, "Synthetic lesions").

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
        Float images; every channel gets the same blob.
    dark_fraction : float, default=0.0
        Share of dark blobs.

    Returns
    -------
    images : torch.Tensor
        A new tensor of the same shape and dtype.
    painted : torch.Tensor of shape (n,), bool
        False for images with no head to paint into (left unchanged).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> x = torch.zeros(2, 1, 64, 64)
    >>> x[0, :, 8:56, 8:56] = 0.3 + 0.2 * torch.rand(48, 48)  # a head; the second is empty
    >>> images, painted = synthetic_lesions(x)
    >>> painted.tolist(), bool((images[0] != x[0]).any()), bool(torch.equal(images[1], x[1]))
    ([True, False], True, True)
    """
    n, c, h, w = x.shape
    device, dtype = x.device, x.dtype
    side = min(h, w)

    def uniform(low, high, *shape):
        return low + (high - low) * torch.rand(n, *shape, device=device, dtype=dtype)

    low, span = _range(x)
    grey = ((x - low) / span).mean(dim=1)
    head = (grey > 0.1).to(dtype)
    window = 2 * round(0.075 * side) + 1
    filled = F.avg_pool2d(head[:, None], window, stride=1, padding=window // 2,
                          count_include_pad=True)[:, 0]
    # Where the head fills the window, else anywhere in the head.
    where = torch.where((filled > 0.97).flatten(1).any(1, keepdim=True),
                        (filled > 0.97).flatten(1), head.flatten(1) > 0).to(dtype)
    painted = where.sum(1) > 0
    centre = torch.multinomial(where + (~painted)[:, None].to(dtype), 1)[:, 0]
    cy = (centre // w).to(dtype).view(n, 1, 1)
    cx = (centre % w).to(dtype).view(n, 1, 1)
    rx, ry = (uniform(0.04, 0.14, 2, 1, 1) * side).unbind(1)
    angle = uniform(0, math.pi, 1, 1)
    yy = torch.arange(h, device=device, dtype=dtype).view(1, h, 1) - cy
    xx = torch.arange(w, device=device, dtype=dtype).view(1, 1, w) - cx
    u = (xx * torch.cos(angle) + yy * torch.sin(angle)) / rx
    v = (yy * torch.cos(angle) - xx * torch.sin(angle)) / ry
    bend = F.interpolate(torch.randn(n, 1, 4, 4, device=device, dtype=dtype), size=(h, w),
                         mode="bicubic", align_corners=True)[:, 0]
    distance = torch.sqrt(u * u + v * v) * torch.exp(0.25 * bend)
    blob = torch.sigmoid((1 - distance) / uniform(0.05, 0.25, 1, 1)) * head
    tissue = torch.where(head > 0, grey, torch.nan).flatten(1)
    quantiles = torch.nanquantile(tissue.float(), torch.tensor([0.1, 0.99], device=device),
                                  dim=1).to(dtype).nan_to_num(0.0)
    dark = torch.rand(n, device=device) < dark_fraction
    target = torch.where(dark, quantiles[0] * uniform(0.5, 1.0),
                         quantiles[1] * uniform(0.85, 1.15)).view(n, 1, 1)
    texture = 1 + 0.08 * F.interpolate(torch.randn(n, 1, 12, 12, device=device, dtype=dtype),
                                       size=(h, w), mode="bilinear", align_corners=True)[:, 0]
    change = uniform(0.5, 1.0, 1, 1) * blob * (target * texture - grey)
    change = change * painted.view(n, 1, 1).to(dtype)
    unit = ((x - low) / span + change[:, None]).clamp(0, 1)
    return unit * span + low, painted


def _range(x):
    """Each image's minimum and span (max - min, at least 1e-6), shaped to broadcast."""
    low = x.amin(dim=(1, 2, 3), keepdim=True)
    return low, (x.amax(dim=(1, 2, 3), keepdim=True) - low).clamp_min(1e-6)


def _gamma(unit, exponent):
    """Raise images in [0, 1] to a power each (above 1 darkens mid-greys, below 1 brightens)."""
    return unit.clamp(0, 1).pow(exponent.view(-1, 1, 1, 1))


def _blur(x, sigma, radius=3):
    """Separable Gaussian blur with its own sigma per image (0: unchanged)."""
    n, c, h, w = x.shape
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma.clamp_min(1e-3).view(n, 1)) ** 2)
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)
    flat = F.pad(x.reshape(1, n * c, h, w), (radius, radius, radius, radius), mode="replicate")
    flat = F.conv2d(flat, kernel.view(n * c, 1, 1, -1), groups=n * c)
    flat = F.conv2d(flat, kernel.view(n * c, 1, -1, 1), groups=n * c)
    return flat.view(n, c, h, w)


def _identity(x):
    return x


def _hflip(x):
    return x.flip(-1)


def _vflip(x):
    return x.flip(-2)


def _rot180(x):
    return x.flip(-1).flip(-2)


def _transpose(x):
    return x.transpose(-1, -2)


def _rot90(x):
    return x.transpose(-1, -2).flip(-1)


def _rot270(x):
    return x.transpose(-1, -2).flip(-2)


def _antitranspose(x):
    return x.transpose(-1, -2).flip(-1).flip(-2)


# Ordered so the first views are the most natural ones for axial slices.
_VIEWS = (_identity, _hflip, _vflip, _rot180, _rot90, _rot270, _transpose, _antitranspose)
MAX_TTA = len(_VIEWS) - 1


def tta_views(n_views):
    """Return the image views that test-time augmentation averages over.

    Parameters
    ----------
    n_views : int
        How many views to add to the original image, 0 to :data:`MAX_TTA`
        (7): first the horizontal flip, then the vertical flip, the 180°
        rotation, the 90° rotations and the two transpositions. Views that
        swap height and width are only used on square images.

    Returns
    -------
    list of callable
        Functions of a tensor ``(n, c, h, w)``; the first is the identity.

    Examples
    --------
    >>> [f.__name__ for f in tta_views(2)]
    ['_identity', '_hflip', '_vflip']
    """
    n_views = int(n_views)
    if not 0 <= n_views <= MAX_TTA:
        raise ValueError(f"tta must be an integer from 0 to {MAX_TTA}; got {n_views!r}")
    return list(_VIEWS[: n_views + 1])
