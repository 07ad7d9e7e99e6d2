"""skattn's modules import only modules of their own layer or below, and never in a cycle."""

import ast
from pathlib import Path

import skattn

PACKAGE = Path(skattn.__file__).parent

# Bottom first. A module may import from its own layer or any layer below.
LAYERS = [
    # networks and helpers
    {
        "skattn.nn",
        "skattn._version",
        "skattn._registry",
        "skattn._device",
        "skattn._scaling",
        "skattn._sparse",
        "skattn._onehot",
        "skattn._memory",
        "skattn._docstring",
        "skattn.exceptions",
    },
    # training, input handling, the model file format
    {"skattn.training", "skattn._arrays", "skattn._data", "skattn._persistence"},
    # the base: the one fit pipeline
    {"skattn._base"},
    # the estimators and what they are made of
    {
        "skattn.inspection",
        "skattn._spreading",
        "skattn._selection",
        "skattn._shift",
        "skattn.supervised",
        "skattn.self_training",
        "skattn.pretraining",
        "skattn.fine_tuning",
        "skattn.model_selection",
    },
    # the command line, the user helpers, the package
    {"skattn._cli", "skattn.__main__", "skattn.utils", "skattn"},
]


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(name):
    """The layer of a module: that of its longest listed prefix (a subpackage's)."""
    candidates = [
        (len(member), index)
        for index, members in enumerate(LAYERS)
        for member in members
        if name == member or name.startswith(member + ".")
    ]
    assert candidates, f"{name} is in no layer: add it to LAYERS"
    return max(candidates)[1]


def imports(path):
    """The skattn modules a file imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("skattn")}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("skattn"):
                continue
            for alias in node.names:
                # `from . import x` may name a module of the package.
                submodule = f"{target}.{alias.name}"
                is_module = (PACKAGE.parent / submodule.replace(".", "/")).with_suffix(".py")
                found.add(submodule if is_module.exists() else target)
    return found - {name}


def graph():
    return {module_name(path): imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer(target) > layer(name)
    ]
    assert upward == []


def test_no_import_cycle():
    edges = graph()
    cycles = []

    def visit(name, path):
        for target in edges.get(name, ()):
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, [*path, target])
        done.add(name)

    done = set()
    for name in edges:
        if name not in done:
            visit(name, [name])
    assert cycles == []


def test_the_check_sees_an_upward_import():
    # The walk must find what it is meant to reject, or the tests above prove nothing.
    assert "skattn._persistence" in imports(PACKAGE / "_base.py")
    assert layer("skattn.fine_tuning") > layer("skattn._base") > layer("skattn.training")
    assert "skattn._base" in imports(PACKAGE / "pretraining.py")
