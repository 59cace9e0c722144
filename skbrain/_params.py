"""Parameters added after an estimator was pickled get their defaults on unpickling."""

import inspect

__all__ = ["fill_new_params"]


def fill_new_params(estimator):
    """Set each ``__init__`` parameter missing from ``estimator`` to its default.

    An old pickle (``load_model(..., allow_pickle=True)``) holds the
    parameters of the skbrain version that wrote it; without this, a
    parameter added since makes ``get_params`` and ``transform`` fail.
    """
    init = type(estimator).__init__
    for name, param in inspect.signature(init).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is not param.empty and name not in vars(estimator):
            setattr(estimator, name, param.default)
