"""The compiler: a validated spec in, a Network out.

``compile`` runs the stages, one line each: stroke templates (``templates``) make the edge layer,
soft logic (``logic``) the parts and hand-written digits, ``readout`` fits or calibrates what the
spec asks to learn from data; ``check`` tests each compiled unit on stimuli drawn from the spec.
Uses ``handnet.spec``, ``handnet.data`` and ``handnet.nn``.
"""

from handnet.compiler.check import check_network, check_spec
from handnet.compiler.compile import compile_spec

__all__ = ["check_network", "check_spec", "compile_spec"]
