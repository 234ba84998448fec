"""The spec: what each neuron should detect, written in TOML and read into frozen dataclasses.

Holds the spec model (``model``), reading with includes and bases (``read``), validation one table
at a time (``validate`` over ``network_table``, ``edge_table``, ``rule_table``) and the stroke
geometry that edges are drawn with (``strokes``). Uses only ``handnet.errors``: the spec is the
first stage of the pipeline.
"""

from handnet.spec.model import Edge, Rule, Spec
from handnet.spec.read import SpecData, load_spec, read_spec_data

__all__ = ["Edge", "Rule", "Spec", "SpecData", "load_spec", "read_spec_data"]


def __getattr__(name):  # handnet 0.1's flat module of this name, deprecated
    from handnet._moved import former_attribute

    return former_attribute(__name__, name)
