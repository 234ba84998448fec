"""The package layout's rules, read from the code's own imports (every import, also those inside
functions): data flows down the list of stages, nothing imports upward, and there are no cycles.

    errors, atomic, kept,            foundation: every package may use them (and _moved, the
    threads, views                   deprecated aliases of handnet 0.1's module paths)
    data -> nn -> spec -> compiler -> inside -> compare -> tune -> viz -> demo -> cli

A module may import its own package, the foundation, and packages earlier in the list. The package
root (``handnet/__init__.py``: ``build``, ``load`` and the notebook views) is the public facade:
only ``demo`` and ``cli`` may import it, and it may import anything below them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "handnet"
FOUNDATION = ["errors", "atomic", "kept", "threads", "views", "_moved"]
STAGES = ["data", "nn", "spec", "compiler", "inside", "compare", "tune", "viz", "demo", "handnet", "cli"]
RANK = {name: -1 for name in FOUNDATION} | {name: i for i, name in enumerate(STAGES)}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """``handnet.nn.train`` -> ``nn``; ``handnet`` -> ``handnet`` (the facade); ``handnet.__main__`` -> ``cli``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "handnet"
    if parts[1] == "__main__":
        return "cli"
    return parts[1]


def imports_of(path: Path) -> set[str]:
    """Every handnet module named by an import anywhere in the file, resolved to absolute names."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "handnet"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "handnet":
                continue
            found.add(target)
            for alias in node.names:  # `from handnet.x import y` may name the module handnet.x.y
                if (ROOT.parent / (target + "." + alias.name).replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT.parent / (target + "." + alias.name).replace(".", "/") / "__init__.py"
                ).exists():
                    found.add(target + "." + alias.name)
    return found


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}
GRAPH = {m: {t for t in imports_of(p) if t != m} for m, p in MODULES.items()}


def test_every_package_is_in_the_rule():
    assert {package_of(m) for m in MODULES} <= set(RANK), "add the new package to FOUNDATION or STAGES here and in the README"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_goes_up_the_pipeline(module):
    mine = package_of(module)
    bad = []
    for target in sorted(GRAPH[module]):
        theirs = package_of(target)
        if theirs == mine:
            continue
        if theirs == "handnet" and mine not in ("demo", "cli"):
            bad.append(f"{target} (the facade; only demo and cli use it)")
        elif RANK[theirs] > RANK[mine]:
            bad.append(f"{target} ({theirs} comes after {mine})")
    assert not bad, f"{module} imports " + ", ".join(bad)


def test_foundation_modules_use_only_each_other():
    for module in MODULES:
        if package_of(module) in FOUNDATION:
            assert {package_of(t) for t in GRAPH[module]} <= set(FOUNDATION), module


def test_no_import_cycles_between_modules():
    # the facade re-exports from every package by nature; a cycle through it is no design cycle
    graph = {m: {t for t in ts if t in MODULES and t != "handnet"}
             for m, ts in GRAPH.items() if m != "handnet"}
    # a package's __init__ re-exporting its own modules is not a cycle either
    for m in graph:
        graph[m] = {t for t in graph[m] if not (MODULES[t].name == "__init__.py" and m.startswith(t + "."))}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_every_package_says_what_it_holds_and_what_it_may_use():
    for init in ROOT.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.splitlines()) >= 2, f"{init} needs a docstring of a few lines"
        assert "use" in doc.lower() or "import" in doc.lower(), f"{init}'s docstring should say what it may use"


def test_one_activation_table_and_one_forward_pass():
    """Activations are applied only through nn.activations, and layers are run only by nn.forward."""
    for module, path in MODULES.items():
        if module in ("handnet.nn.activations",):
            continue
        text = path.read_text()
        for name in ("def sigmoid", "def softmax", "def relu", "np.tanh(", "\nACTIVATIONS = "):
            assert name not in text, f"{module} defines {name.strip()!r}; use handnet.nn.activations"
        # Network.forward calls nn.forward; backprop's Engine.forward runs its compiled tape, which
        # tests/test_train.py checks against nn.forward
        if module not in ("handnet.nn.forward", "handnet.nn.network", "handnet.nn.backprop"):
            assert "def forward(" not in text, f"{module} writes its own forward pass"


def test_old_module_paths_still_import_with_a_deprecation_warning():
    import importlib
    import sys

    import handnet

    sys.modules.pop("handnet.network", None)
    with pytest.warns(DeprecationWarning, match="handnet.nn.network"):
        old = importlib.import_module("handnet.network")
    assert old.Network is handnet.Network
    with pytest.warns(DeprecationWarning, match="handnet.data.mnist.write_idx"):
        from handnet.data import write_idx  # noqa: F401  (the flat data module's name)
