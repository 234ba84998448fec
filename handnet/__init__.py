"""handnet: the lesson's 784-16-16-10 digit network, designed by hand from spec files,
trained by gradient descent, and compared.

The pipeline runs one way: spec -> weights -> Network -> analysis -> figures. The packages follow
it (``spec``, ``compiler``, ``nn``, ``inside``, ``compare``, ``tune``, ``viz``; ``data`` for digits);
this module is the facade: ``build``, ``load``, ``load_image`` and the classes most code needs.
"""

from handnet import _moved
from handnet.errors import DataError, HandnetError, NetworkFileError, SpecError, UnitError
from handnet.nn.network import Layer, Network, UnitRef
from handnet.viz import notebook as _notebook  # noqa: F401  (registers the Jupyter views)

_moved.install()


def build(path, data=None) -> Network:
    """Load the spec at ``path`` and compile it into a Network (``data``: training digits for
    fitted or calibrated units; a Dataset, a directory, or None for the bundled sample)."""
    from handnet.compiler.compile import compile_spec
    from handnet.spec import load_spec

    return compile_spec(load_spec(path), data)


def load(path, data=None) -> Network:
    """A network from a file: a saved ``.npz``, a spec ``.toml`` compiled on the spot (see ``build``),
    or a ``.safetensors`` file written by ``handnet export``."""
    from pathlib import Path

    suffix = Path(path).suffix.lower()
    if suffix == ".toml":
        return build(path, data=data)
    if suffix == ".safetensors":
        from handnet.nn.export import load_safetensors

        return load_safetensors(path)
    if suffix != ".npz":
        raise NetworkFileError(f"{path}: expected a saved network (.npz) or a spec file (.toml), or a .safetensors export, got {suffix or 'no suffix'!r}")
    return Network.load(path)


def load_image(path):
    """The digit in an image file (PNG, JPEG, ...) made the way MNIST's were: ``(28, 28)`` float64 in
    [0, 1], ink bright, centred. See ``handnet.data.images.load_image``."""
    from handnet.data.images import load_image as load

    return load(path)


__all__ = [
    "DataError",
    "build",
    "HandnetError",
    "Layer",
    "Network",
    "NetworkFileError",
    "SpecError",
    "UnitError",
    "UnitRef",
    "load",
    "load_image",
]
__version__ = "0.1.0"
