"""One training set from several collections, with near-copies grouped across them."""

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.utils import Bunch

from ._duplicates import DEFAULT_THRESHOLD, find_duplicate_groups

__all__ = ["combine_collections"]


def combine_collections(*collections, names=None, threshold=DEFAULT_THRESHOLD, n_jobs=None):
    """Join loaded collections into one, keeping copies of a picture in one group.

    Each collection's own groups (copies of one picture, or one patient's
    slices) are kept, and skbrain's duplicate finder runs over all the images
    together, so a picture that appears in two collections ends up in one
    group too. Pass the result's ``groups`` to a grouped split and no copy
    sits on both sides.

    Parameters
    ----------
    *collections : Bunch
        Two or more results of :func:`load_brain_mri` or :func:`load_images`
        (``data``, ``target``, ``target_names``, ``groups``).
    names : sequence of str, default=None
        One name per collection, for the ``collection_names`` field;
        ``None`` names them ``"0"``, ``"1"``, ...
    threshold : int, default=44
        Passed to :func:`find_duplicate_groups` for the links across
        collections.
    n_jobs : int, default=None
        Decoding threads (``-1``: all processors).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``, ``target``, ``target_names`` and ``groups`` of the union, and
        ``collection`` (which collection each image came from, an index into
        ``collection_names``). Labels are matched by class name; when every
        collection has two classes they are matched by label instead (label 1
        is tumor in every two-class collection skbrain loads, whatever its
        folders are called), and ``target_names`` join the names with
        ``" / "``.

    Raises
    ------
    ValueError
        If fewer than two collections are given, ``names`` has the wrong
        length, or multi-class collections do not share their class names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from skbrain.datasets import combine_collections, make_synthetic_mri
    >>> a, b = (make_synthetic_mri(4, image_size=32, random_state=s) for s in (0, 1))
    >>> a = Bunch(data=a.data, target=a.target, target_names=np.array(["no", "yes"]),
    ...           groups=np.arange(4))
    >>> b = Bunch(data=b.data, target=b.target,
    ...           target_names=np.array(["notumor", "tumor"]), groups=np.zeros(4, int))
    >>> both = combine_collections(a, b, names=["a", "b"])
    >>> both.target_names.tolist(), both.collection.tolist()
    (['no / notumor', 'yes / tumor'], [0, 0, 0, 0, 1, 1, 1, 1])
    >>> len(np.unique(both.groups[4:]))  # b's one group stays one group
    1
    """
    if len(collections) < 2:
        raise ValueError(f"combine_collections needs two or more collections; got "
                         f"{len(collections)}")
    names = [str(k) for k in range(len(collections))] if names is None else list(names)
    if len(names) != len(collections):
        raise ValueError(f"names: one per collection ({len(collections)}); got {len(names)}")
    class_lists = [[str(n) for n in c.target_names] for c in collections]

    if all(len(c) == 2 for c in class_lists):
        target_names = [" / ".join(dict.fromkeys(c[k] for c in class_lists)) for k in (0, 1)]
        targets = [np.asarray(c.target, dtype=np.int64) for c in collections]
    else:
        target_names = sorted(set(class_lists[0]))
        for name, classes in zip(names, class_lists, strict=True):
            if sorted(set(classes)) != target_names:
                raise ValueError(
                    f"collection {name!r} has the classes {classes}, the first has "
                    f"{class_lists[0]}; multi-class collections must share their class names "
                    "(or load them with negative= to join them into tumor / no tumor)")
        targets = [np.array([target_names.index(classes[t]) for t in c.target], dtype=np.int64)
                   for c, classes in zip(collections, class_lists, strict=True)]

    try:
        data = np.concatenate([np.asarray(c.data) for c in collections])
    except ValueError:  # arrays of different image sizes: keep them as a list
        data = [image for c in collections for image in c.data]
    # Each collection's groups, offset so that no two collections share an id.
    own, offset = [], 0
    for c in collections:
        _, ids = np.unique(np.asarray(c.groups), return_inverse=True)
        own.append(ids + offset)
        offset += ids.max() + 1
    own = np.concatenate(own)
    copies = find_duplicate_groups(data, threshold=threshold, n_jobs=n_jobs)
    # Images are linked when they share either labelling: connected components of
    # the graph image -> own group, image -> duplicate group.
    n = len(data)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([n + own, n + offset + copies])
    size = n + offset + copies.max() + 1
    graph = coo_matrix((np.ones(2 * n), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    _, groups = np.unique(labels[:n], return_inverse=True)
    return Bunch(
        data=data,
        target=np.concatenate(targets),
        target_names=np.array(target_names, dtype=str),
        groups=groups.astype(np.int64),
        collection=np.repeat(np.arange(len(collections)), [len(c.target) for c in collections]),
        collection_names=np.array(names, dtype=str),
    )
