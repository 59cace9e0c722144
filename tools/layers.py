"""skbrain's layers, and the imports that point up through them.

Every module of ``skbrain/`` belongs to one layer; a module may import from
its own layer and the layers below, never from a layer above. Imports inside
functions count too: a lazy import is still a dependency. This script lists,
for a source tree (the checkout, or an older commit unpacked with ``git
archive``):

* the lines of each module and those over ``--max-lines`` (700);
* every import that points up a layer (target: none but the ones listed in
  ``ALLOWED_UPWARD`` with their reason);
* the modules no layer names.

``tests/test_layers.py`` runs it on the checkout, so an upward import fails
the suite.

Usage::

    python tools/layers.py                       # this checkout
    python tools/layers.py --root /tmp/old/skbrain --json before.json
    mkdir /tmp/old && git archive 43e73dc skbrain | tar -x -C /tmp/old
"""

import argparse
import ast
import fnmatch
import json
import sys
from pathlib import Path

#: Bottom to top. A module is placed by the first pattern that matches its
#: dotted name below ``skbrain`` (``_base``, ``datasets._lgg``, ``readers.dicom``).
LAYERS = (
    ("foundation", ("exceptions", "_version", "_fileio", "_device", "_malloc", "_params",
                    "_live", "_positive", "_modelfile", "_shipped", "model_selection")),
    ("readers", ("_imageio", "_readers", "_readers.*", "readers", "readers.*", "_cache")),
    ("datasets", ("datasets", "datasets.*")),
    ("transform", ("preprocessing", "augmentation")),
    ("networks", ("networks", "backbones", "_weights_files")),
    ("estimator base", ("_base", "_inputs", "_net", "_transfer", "_accelerate", "_unwrap")),
    ("estimators", ("classifiers", "pretrained")),
    ("catalogue", ("registry",)),
    ("metrics and tables", ("metrics", "tables")),
    ("storage", ("persistence", "hub", "_legacy_pickle", "export")),
    ("evaluation", ("evaluation", "search", "sites", "thresholds", "inference")),
    ("shipped weights", ("weights",)),
    ("explanation and pages", ("_maps", "explain", "plotting", "model_card", "report")),
    ("commands as functions", ("training",)),
    ("command line", ("cli", "_cli_options", "__main__", "__init__")),
)

#: (importer, imported) -> why it may point up.
ALLOWED_UPWARD = {
    ("_base", "export"): "deprecated BaseCNNClassifier.to_onnx shim, removed with the method",
    ("search", "plotting"): "deprecated skbrain.search.plot_search alias, removed with it",
}


def layer_of(name):
    """The index in :data:`LAYERS` of a dotted module name below ``skbrain``, or None."""
    for rank, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return rank
    return None


def modules(root):
    """Dotted name -> path of every module below ``root`` (the ``skbrain`` folder)."""
    found = {}
    for path in sorted(Path(root).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(importer, node, known):
    """The skbrain modules one ``import``/``from ... import`` node names."""
    package = importer.split(".")
    # A package's __init__ resolves relative imports inside the package itself.
    is_package = known[importer].name == "__init__.py" and importer != "__init__"
    targets = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == "skbrain" or alias.name.startswith("skbrain."):
                targets.append(alias.name[len("skbrain."):] if "." in alias.name else "__init__")
        return targets
    if node.level:
        base = package[:len(package) - node.level + (1 if is_package else 0)]
        stem = ".".join(base + ([node.module] if node.module else []))
    elif node.module and (node.module == "skbrain" or node.module.startswith("skbrain.")):
        stem = node.module[len("skbrain."):] if "." in node.module else ""
    else:
        return targets
    for alias in node.names:
        sub = f"{stem}.{alias.name}" if stem else alias.name
        if sub in known:
            targets.append(sub)
        elif stem in known:
            targets.append(stem)
        elif not stem:
            targets.append("__init__")
    return targets


def imports(root):
    """(importer, imported, line) for every import of one skbrain module by another."""
    known = modules(root)
    arrows = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(name, node, known):
                    if target != name:
                        arrows.append((name, target, node.lineno))
    return arrows


def check(root, max_lines=700):
    """A dict: lines per module, upward imports, allowed ones, unplaced modules."""
    known = modules(root)
    lines = {name: len(path.read_text().splitlines()) for name, path in known.items()}
    upward, allowed = [], []
    for importer, imported, line in imports(root):
        a, b = layer_of(importer), layer_of(imported)
        if a is None or b is None or b <= a:
            continue
        record = {"importer": importer, "imported": imported, "line": line,
                  "from_layer": LAYERS[a][0], "to_layer": LAYERS[b][0]}
        reason = ALLOWED_UPWARD.get((importer, imported))
        (allowed if reason else upward).append({**record, "reason": reason} if reason
                                               else record)
    return {
        "modules": len(known),
        "lines": sum(lines.values()),
        "lines_per_module": dict(sorted(lines.items(), key=lambda kv: -kv[1])),
        "over_max_lines": {n: c for n, c in lines.items() if c > max_lines},
        "upward": upward,
        "allowed_upward": allowed,
        "unplaced": sorted(n for n in known if layer_of(n) is None),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1] / "skbrain"))
    parser.add_argument("--max-lines", type=int, default=700)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = check(args.root, args.max_lines)
    print(f"{result['modules']} modules, {result['lines']:,} lines")
    print(f"\nmodules over {args.max_lines} lines:")
    for name, count in result["over_max_lines"].items():
        print(f"  {name:<28} {count:>5}")
    print(f"\nimports pointing up a layer: {len(result['upward'])}")
    for r in result["upward"]:
        print(f"  {r['importer']}:{r['line']} -> {r['imported']} "
              f"({r['from_layer']} -> {r['to_layer']})")
    for r in result["allowed_upward"]:
        print(f"  allowed: {r['importer']}:{r['line']} -> {r['imported']} ({r['reason']})")
    if result["unplaced"]:
        print(f"\nmodules no layer names: {', '.join(result['unplaced'])}")
    print("\nlayers, bottom to top:")
    known = modules(args.root)
    for rank, (label, _) in enumerate(LAYERS):
        members = [n for n in known if layer_of(n) == rank]
        print(f"  {rank:>2} {label:<22} {', '.join(members)}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
