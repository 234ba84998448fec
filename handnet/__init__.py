"""handnet: the lesson's 784-16-16-10 digit network, designed by hand from spec files,
trained by gradient descent, and compared.

The pipeline runs one way: spec -> weights -> Network -> analysis -> figures.
"""

from .errors import DataError, HandnetError, NetworkFileError, SpecError, UnitError
from .network import Layer, Network, UnitRef



def build(path, data=None) -> Network:
    """Load the spec at ``path`` and compile it into a Network (``data``: training digits for
    fitted or calibrated units; a Dataset, a directory, or None for the bundled sample)."""
    from .compile import compile_spec
    from .spec import load_spec

    return compile_spec(load_spec(path), data)


__all__ = ["DataError", "build", "HandnetError", "Layer", "Network", "NetworkFileError", "SpecError", "UnitError", "UnitRef"]
__version__ = "0.1.0"
