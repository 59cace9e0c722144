"""Parameters missing from an old model get the value that keeps its old behaviour."""

import inspect

__all__ = ["fill_new_params", "former_defaults"]


def former_defaults(cls):
    """The values that parameters missing from a model saved by an older skbrain take.

    A class whose default changed for new models lists the old default in
    ``_former_defaults``: a model saved before the parameter existed was
    fitted with that behaviour, and must keep it when loaded.
    """
    return dict(getattr(cls, "_former_defaults", {}))


def fill_new_params(estimator):
    """Set each ``__init__`` parameter missing from ``estimator`` to its default.

    An old pickle (``load_model(..., allow_pickle=True)``) holds the
    parameters of the skbrain version that wrote it; without this, a
    parameter added since makes ``get_params`` and ``transform`` fail.
    Parameters listed in :func:`former_defaults` get their old default instead.
    """
    former = former_defaults(type(estimator))
    init = type(estimator).__init__
    for name, param in inspect.signature(init).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is not param.empty and name not in vars(estimator):
            setattr(estimator, name, former.get(name, param.default))
