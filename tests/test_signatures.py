"""The named estimators' signatures and docstrings, as written in the source, follow the catalogue.

The catalogue: each architecture's defaults (:data:`skbrain.networks.ARCHITECTURE_SPECS`),
the pretrained families' variants (:data:`skbrain.backbones.FAMILIES`), the training
parameters of ``BaseCNNClassifier.__init__`` and what each parameter means
(``PARAMETER_DOCS`` and ``PRETRAINED_PARAMETER_DOCS``). The source is read with :mod:`ast`,
as IDEs and type checkers read it, so nothing may be generated at import time.
"""

import ast
import inspect
import pydoc
import textwrap
from pathlib import Path

import pytest
from sklearn.base import clone

from skbrain import classifiers, pretrained
from skbrain._base import BaseCNNClassifier
from skbrain.backbones import FAMILIES
from skbrain.classifiers import ATTRIBUTES_DOC, KWARGS_DOC, PARAMETER_DOCS
from skbrain.networks import ARCHITECTURE_SPECS
from skbrain.pretrained import NOTES_DOC, PRETRAINED_PARAMETER_DOCS, PRETRAINED_PARAMETERS

#: CNNClassifier's layer settings: None takes the architecture's own value.
LAYERS = ("n_kernels", "n_kernels_2", "kernel_size", "pool_size", "dropout")

#: The pretrained estimators' own parameters and defaults, each naming a variant of its family.
PRETRAINED_OWN = {
    "EfficientNetClassifier": ("efficientnet", {"variant": "b0"}),
    "ResNetClassifier": ("resnet", {"depth": 50}),
    "VGGClassifier": ("vgg", {"depth": 16, "batch_norm": False}),
    "TimmClassifier": (None, {"model_name": "efficientnet_lite0"}),
}

#: Parameters that a class describes in its own words rather than the catalogue's.
OWN_TEXT = {("VGGClassifier", "batch_norm")}

DOCS = {**PARAMETER_DOCS, **PRETRAINED_PARAMETER_DOCS}

NAMED = {spec.estimator: spec for spec in ARCHITECTURE_SPECS.values() if spec.estimator}
CLASSES = [classifiers.CNNClassifier, *(getattr(classifiers, name) for name in NAMED),
           *(getattr(pretrained, name) for name in PRETRAINED_OWN)]


def training_parameters(overrides, base_init=BaseCNNClassifier.__init__):
    """The keyword-only training parameters of the base, in order, with ``overrides``."""
    parameters = inspect.signature(base_init).parameters.values()
    return {p.name: overrides.get(p.name, p.default) for p in parameters
            if p.kind is p.KEYWORD_ONLY}


def expected(cls, base_init=BaseCNNClassifier.__init__):
    """``(own, training, layers)``: the catalogue's parameters of ``cls`` and its layer text."""
    name = cls.__name__
    if name in NAMED:
        spec = NAMED[name]
        own, module, layers = {**spec.defaults, "pool_first": True}, classifiers, spec.layers
    elif cls is classifiers.CNNClassifier:
        own = {"architecture": "wide", **dict.fromkeys(LAYERS), "batch_norm": True,
               "pool_first": True}
        module, layers = classifiers, "see ``architecture``"
    else:
        own, module, layers = {**PRETRAINED_OWN[name][1], **PRETRAINED_PARAMETERS}, pretrained, ""
    return own, training_parameters(module.TRAINING_DEFAULTS, base_init), layers


def literal(value):
    """A default as the signature writes it (strings in double quotes)."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def source_class(cls):
    """The ``ast.ClassDef`` of ``cls`` in its module's source file."""
    tree = ast.parse(Path(inspect.getfile(cls)).read_text(encoding="utf-8"))
    return next(node for node in tree.body
                if isinstance(node, ast.ClassDef) and node.name == cls.__name__)


def source_init(cls):
    """``(own, keyword-only, var-keyword)`` of the ``__init__`` written in the class's source."""
    init = next(node for node in source_class(cls).body
                if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    args = init.args
    assert not args.posonlyargs and args.vararg is None
    positional = [a.arg for a in args.args]
    assert positional[0] == "self"
    defaults = [ast.literal_eval(d) for d in args.defaults]
    assert len(defaults) == len(positional) - 1, "every parameter has a default"
    own = dict(zip(positional[1:], defaults, strict=True))
    keyword = {a.arg: ast.literal_eval(d)
               for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)}
    return own, keyword, args.kwarg and args.kwarg.arg


def mismatches(cls, base_init=BaseCNNClassifier.__init__):
    """How the source ``__init__`` of ``cls`` differs from the catalogue (empty: none)."""
    own, training, _ = expected(cls, base_init)
    source_own, source_training, kwarg = source_init(cls)
    problems = []
    if list(source_own.items()) != list(own.items()):
        problems.append(f"own parameters {source_own} != catalogue {own}")
    if list(source_training.items()) != list(training.items()):
        missing = sorted(set(training) - set(source_training))
        problems.append(f"training parameters differ from the base's (missing: {missing})")
    if kwarg != "kwargs":
        problems.append("no **kwargs for skorch's module__* parameters")
    return problems


def parameters_section(doc):
    """``{name: (type, text)}`` of a numpydoc ``Parameters`` section, in order."""
    lines = inspect.cleandoc(doc).splitlines()
    start = lines.index("Parameters") + 2
    assert lines[start - 1] == "-" * len("Parameters")
    entries, name = {}, None
    for line in lines[start:]:
        if not line.strip():
            break
        if not line.startswith(" "):
            name, _, kind = line.partition(" : ")
            entries[name] = (kind, [])
        else:
            entries[name][1].append(line.strip())
    return {name: (kind, " ".join(text)) for name, (kind, text) in entries.items()}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_source_signature_follows_the_catalogue(cls):
    assert mismatches(cls) == []
    signature = inspect.signature(cls)
    own, training, _ = expected(cls)
    assert {n: p.default for n, p in signature.parameters.items() if n != "kwargs"} == {
        **own, **training}
    assert cls().get_params() == {**own, **training}


def test_a_training_parameter_added_to_the_base_only_is_caught():
    def base_init(self, *, lr=1e-3, max_epochs=30, new_knob=1, **kwargs):
        raise NotImplementedError

    for cls in CLASSES:
        assert any("missing: ['new_knob']" in problem
                   for problem in mismatches(cls, base_init)), cls


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_source_docstring_gives_every_parameter_in_the_catalogue_words(cls):
    doc = ast.get_docstring(source_class(cls))
    assert doc == inspect.cleandoc(cls.__doc__), "the docstring is changed at import"
    own, training, layers = expected(cls)
    entries = parameters_section(doc)
    assert list(entries) == [*own, *training, "**kwargs"]
    for name, default in {**own, **training}.items():
        kind, text = entries[name]
        assert kind.endswith(f", default={literal(default)}"), (name, kind)
        if name in DOCS and (cls.__name__, name) not in OWN_TEXT:
            assert kind == f"{DOCS[name][0]}, default={literal(default)}"
            assert text == DOCS[name][1].format(layers=layers), name
        else:
            assert text, f"{name} is not described"
    assert textwrap.dedent(KWARGS_DOC).strip() in doc
    assert textwrap.dedent(ATTRIBUTES_DOC).strip() in doc
    if cls.__module__ == pretrained.__name__:
        assert textwrap.dedent(NOTES_DOC).strip() in doc


def test_catalogue_defaults_are_valid_values():
    assert "wide" in ARCHITECTURE_SPECS
    assert all(set(spec.defaults) <= set(LAYERS) for spec in ARCHITECTURE_SPECS.values())
    for family, own in PRETRAINED_OWN.values():
        if family is not None:
            assert own in [variant.params for variant in FAMILIES[family].variants.values()]
    assert "pretrained" not in PARAMETER_DOCS, "importing skbrain.pretrained changes nothing"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_skorch_parameters_stay_routed_and_cloned(cls):
    clf = cls(module__extra=3, optimizer__momentum=0.5)
    assert clf.get_params()["module__extra"] == 3
    copy = clone(clf).set_params(module__extra=4, max_epochs=2)
    assert (copy.module__extra, copy.max_epochs, clf.module__extra) == (4, 2, 3)
    assert copy.get_params()["optimizer__momentum"] == 0.5
    with pytest.raises(TypeError, match=f"{cls.__name__} got an unexpected keyword argument"):
        cls(n_kernel=3)


def test_positional_and_keyword_only_parameters():
    clf = classifiers.WideCNNClassifier(12, 5)
    assert (clf.n_kernels, clf.kernel_size, clf.pool_size) == (12, 5, 3)
    assert pretrained.ResNetClassifier(18).depth == 18
    with pytest.raises(TypeError):
        classifiers.SimpleCNNClassifier(8, 3, 2, 0.1, True, 0.5)  # lr is keyword-only


def test_help_shows_every_parameter():
    text = pydoc.render_doc(classifiers.WideCNNClassifier, renderer=pydoc.plaintext)
    own, training, _ = expected(classifiers.WideCNNClassifier)
    signature = text[text.index("__init__(self"):text.index(")", text.index("__init__(self"))]
    for name, default in {**own, **training}.items():
        assert f"{name}={default!r}" in signature
        assert f"\n |  {name} : " in text
