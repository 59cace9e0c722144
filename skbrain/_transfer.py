"""``init_from``: the weights a fit starts from, and copying them into a new network.

:func:`_init_source` turns ``init_from`` (a fitted model, the path of a saved
one, or the name of a shipped detector) into the source network's tensors and
classes; a file is read with :func:`skbrain._modelfile.read_estimator_state`,
which builds no estimator. :func:`copy_matching_weights` copies every tensor
but a classification head for another class count.
"""

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["copy_matching_weights"]


@dataclass(frozen=True)
class _Source:
    """The network tensors and classes a fine-tune starts from."""

    state_dict: dict
    classes_: np.ndarray


def _init_source(init_from):
    """The tensors and classes of what ``init_from`` names (a fitted model, a saved file
    or the name of a shipped detector)."""
    if isinstance(init_from, (str, os.PathLike)):
        from ._modelfile import read_estimator_state

        if not os.path.exists(init_from):
            from ._shipped import describe_known, resolve_name

            shipped = resolve_name(init_from) if isinstance(init_from, str) else None
            if shipped is None:
                raise FileNotFoundError(
                    f"init_from={os.fspath(init_from)!r}: no such file or folder, nor a shipped "
                    f"detector (expected a model saved with save_model, or one of the shipped "
                    f"detectors: {describe_known()})")
            init_from = shipped
        state = read_estimator_state(init_from)
        return _Source(state.state_dict, np.asarray(state.classes_))
    from ._unwrap import unwrap

    estimator = unwrap(init_from, fitted=True, caller="init_from").estimator
    return _Source(estimator.module_.state_dict(), estimator.classes_)


def copy_matching_weights(source, target, n_classes_source, n_classes_target):
    """Copy every weight of ``source`` into ``target`` except a head for other classes.

    The two networks must have the same tensors (names and shapes), but for
    those whose first dimension is the class count when the counts differ:
    that is the classification head, left as ``target`` initialised it.

    Parameters
    ----------
    source : dict of str to torch.Tensor, or torch.nn.Module
        The source network's ``state_dict()`` (as
        :func:`skbrain._modelfile.read_estimator_state` reads it from a file),
        or the network itself.
    target : torch.nn.Module
    n_classes_source, n_classes_target : int

    Returns
    -------
    list of str
        The names of the tensors left as they were (the head), empty when the
        class counts agree.

    Raises
    ------
    ValueError
        The architectures differ; the message names the first tensor that does not match.

    Examples
    --------
    >>> from torch import nn
    >>> a, b = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2)), nn.Sequential(
    ...     nn.Conv2d(1, 4, 3), nn.Linear(4, 3))
    >>> copy_matching_weights(a, b, 2, 3)
    ['1.weight', '1.bias']
    >>> bool((a[0].weight == b[0].weight).all())
    True
    """
    theirs = source.state_dict() if isinstance(source, nn.Module) else source
    ours = target.state_dict()
    copied, kept = {}, []
    for name in list(ours) + [name for name in theirs if name not in ours]:
        if name not in theirs or name not in ours:
            where = "the source network" if name not in theirs else "this network"
            raise ValueError(
                f"init_from: the architectures differ: tensor {name!r} is missing from "
                f"{where}; init_from needs a model of the same architecture"
            )
        a, b = theirs[name], ours[name]
        if a.shape == b.shape:
            copied[name] = a
        elif (n_classes_source != n_classes_target and a.ndim and b.ndim
              and a.shape[0] == n_classes_source and b.shape[0] == n_classes_target
              and a.shape[1:] == b.shape[1:]):
            kept.append(name)
        else:
            raise ValueError(
                f"init_from: the architectures differ: tensor {name!r} has shape "
                f"{tuple(a.shape)} in the source network and {tuple(b.shape)} here; only the "
                "classification head may differ (by the number of classes), so the "
                "architecture, its width and the image channels must be the same"
            )
    with torch.no_grad():
        target.load_state_dict(copied, strict=False)
    return kept
