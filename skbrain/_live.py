"""Read-only views of a registry that are computed at each use.

A table built once at import misses what ``register_architecture`` and
``register_family`` add later; these views rebuild from the registry every
time they are read (as timm reads its registry at call time), and still look
like the tuple or dict they stand for.
"""

from collections.abc import Mapping, Sequence

__all__ = ["LiveNames", "LiveTable"]


class LiveNames(Sequence):
    """A tuple-like view of ``names()``, called at each use.

    Examples
    --------
    >>> table = {"a": 1}
    >>> names = LiveNames(lambda: table)
    >>> table["b"] = 2
    >>> names, "b" in names, names == ("a", "b")
    (('a', 'b'), True, True)
    """

    def __init__(self, names):
        self._names = names

    def _tuple(self):
        return tuple(self._names())

    def __getitem__(self, index):
        return self._tuple()[index]

    def __len__(self):
        return len(self._tuple())

    def __iter__(self):
        return iter(self._tuple())

    def __contains__(self, name):
        return name in self._tuple()

    def __eq__(self, other):
        if isinstance(other, (tuple, list, LiveNames)):
            return self._tuple() == tuple(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return repr(self._tuple())


class LiveTable(Mapping):
    """A dict-like view of ``build()``, a fresh dict at each use.

    Examples
    --------
    >>> registry = {"a": 1}
    >>> table = LiveTable(lambda: {k: 10 * v for k, v in registry.items()})
    >>> registry["b"] = 2
    >>> dict(table), table["b"]
    ({'a': 10, 'b': 20}, 20)
    """

    def __init__(self, build):
        self._build = build

    def __getitem__(self, key):
        return self._build()[key]

    def __iter__(self):
        return iter(self._build())

    def __len__(self):
        return len(self._build())

    def __contains__(self, key):
        return key in self._build()

    def __repr__(self):
        return repr(self._build())
