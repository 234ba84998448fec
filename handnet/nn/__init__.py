"""Networks: layers of weights, the one activation table and forward pass, and learning.

``network`` holds ``Network``, ``Layer`` and unit names (``layer:unit``) with saving and loading;
``activations`` the table of activation functions and their derivatives; ``forward`` the forward
pass every caller uses; ``backprop`` and ``optimizers`` the vectorized training engine; ``train``
the training loop; ``evaluate`` accuracy and confusion; ``convert`` conversion from scikit-learn
and PyTorch; ``export`` safetensors files and the PyTorch code that loads them. Uses ``handnet.data`` (datasets, augmentation) and the foundation modules.
"""

from handnet.nn import convert as _convert  # noqa: F401  (attaches the deprecated Network.from_sklearn)
from handnet.nn.network import Layer, Network, UnitRef, random_network

__all__ = ["Layer", "Network", "UnitRef", "random_network"]
