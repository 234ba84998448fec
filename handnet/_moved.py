"""handnet 0.1's flat module paths, kept working as deprecated aliases of their new homes.

``import handnet.network`` still works and warns that the module is now ``handnet.nn.network``;
the three names that are packages now (``handnet.spec``, ``handnet.data``, ``handnet.compare``)
answer the old module's names the same way. The aliases go away in handnet 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

MOVED = {
    "handnet.strokes": "handnet.spec.strokes",
    "handnet.templates": "handnet.compiler.templates",
    "handnet.compile": "handnet.compiler.compile",
    "handnet.logic": "handnet.compiler.logic",
    "handnet.readout": "handnet.compiler.readout",
    "handnet.check": "handnet.compiler.check",
    "handnet.fetch": "handnet.data.fetch",
    "handnet.augment": "handnet.data.augment",
    "handnet.network": "handnet.nn.network",
    "handnet.backprop": "handnet.nn.backprop",
    "handnet.train": "handnet.nn.train",
    "handnet.evaluate": "handnet.nn.evaluate",
    "handnet.imports": "handnet.nn.convert",
    "handnet.weights": "handnet.inside.effective",
    "handnet.probes": "handnet.inside.probes",
    "handnet.tuning": "handnet.inside.tuning_curves",
    "handnet.maximize": "handnet.inside.maximize",
    "handnet.similarity": "handnet.compare.similarity",
    "handnet.edgelike": "handnet.compare.edgelike",
    "handnet.ladder": "handnet.compare.ladder",
    "handnet.surgery": "handnet.compare.surgery",
    "handnet.errors_analysis": "handnet.tune.mistakes",
    "handnet.netdiff": "handnet.tune.diff",
    "handnet.sweep": "handnet.tune.sweep",
    "handnet.watch": "handnet.tune.watch",
    "handnet.plots": "handnet.viz.plots",
    "handnet.compare_plots": "handnet.viz.compare",
    "handnet.tune_plots": "handnet.viz.tune",
    "handnet.notebook": "handnet.viz.notebook",
    "handnet.gallery": "handnet.viz.gallery",
    "handnet.report": "handnet.viz.report",
}
# packages that took the name of a flat module: where that module's names live now
FORMER_MODULES = {
    "handnet.spec": ("handnet.spec.model", "handnet.spec.read"),
    "handnet.data": ("handnet.data.mnist",),
    "handnet.compare": ("handnet.compare.comparison",),
}


def _warn(old: str, new: str) -> None:
    warnings.warn(f"{old} is now {new}; the old name goes away in handnet 0.3", DeprecationWarning, stacklevel=3)


def former_attribute(package: str, name: str):
    """For a package's ``__getattr__``: ``name`` from the flat module the package replaced, with a warning."""
    for home in FORMER_MODULES.get(package, ()):
        module = importlib.import_module(home)
        if hasattr(module, name):
            _warn(f"{package}.{name}", f"{home}.{name}")
            return getattr(module, name)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module path and gives a module that forwards every name to the new one."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        new = importlib.import_module(MOVED[spec.name])
        _warn(spec.name, MOVED[spec.name])
        alias = types.ModuleType(spec.name, new.__doc__)
        alias.__getattr__ = lambda name: getattr(new, name)
        alias.__dir__ = lambda: dir(new)
        return alias

    def exec_module(self, module):
        pass


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
