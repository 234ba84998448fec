"""Validation of a merged spec, one module per table: ``network_table``, ``edge_table``, ``rule_table``,
over the problem collector in ``problems``. ``Validator(...).spec()`` returns a Spec or raises one
SpecError that lists every problem."""

from __future__ import annotations

from pathlib import Path

from handnet.spec.edge_table import EdgeTable
from handnet.spec.network_table import NetworkTable
from handnet.spec.problems import Problems
from handnet.spec.rule_table import RuleTable


class Validator(Problems, NetworkTable, EdgeTable, RuleTable):
    """Collects every problem in a merged spec, then builds the Spec or raises one SpecError."""

    def __init__(self, path: Path, data: dict, origin: dict, sources: list):
        super().__init__(path, data, origin, sources)
