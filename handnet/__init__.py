"""handnet: the lesson's 784-16-16-10 digit network, designed by hand from spec files,
trained by gradient descent, and compared.

The pipeline runs one way: spec -> weights -> Network -> analysis -> figures.
"""

from .errors import DataError, HandnetError, NetworkFileError, SpecError, UnitError
from .network import Layer, Network, UnitRef

__all__ = ["DataError", "HandnetError", "Layer", "Network", "NetworkFileError", "SpecError", "UnitError", "UnitRef"]
__version__ = "0.1.0"
