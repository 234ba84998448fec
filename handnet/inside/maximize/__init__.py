"""Activation maximization, in the manner of Lucid's optvis: four independent pieces.

``objectives`` says what is maximized (a unit's pre-activation or activation, minus penalties)
and gives its exact input gradient; ``parameterizations`` how the image is made from the
optimized variables and where it may lie (box, L2 ball, blur); ``search`` how the optimum is
found (closed form for first-layer units, seeded screening and L-BFGS-B deeper); ``bounds`` the
interval bounds each result is measured against. ``results`` holds ``Maximizer`` and its file.
"""

from handnet.inside.maximize.bounds import interval_bounds, objective_bounds
from handnet.inside.maximize.objectives import OBJECTIVES, Problem, UnitObjective, input_gradient, unit_values
from handnet.inside.maximize.parameterizations import CONSTRAINTS
from handnet.inside.maximize.results import Maximizer, save_maximizers
from handnet.inside.maximize.search import (
    closed_form,
    maximize,
    maximize_units,
    projected_gradient,
    random_start_baseline,
    top_activating,
    top_activating_units,
)

__all__ = [
    "CONSTRAINTS", "OBJECTIVES", "Maximizer", "Problem", "UnitObjective", "closed_form", "input_gradient",
    "interval_bounds", "maximize", "maximize_units", "objective_bounds", "projected_gradient",
    "random_start_baseline", "save_maximizers", "top_activating", "top_activating_units", "unit_values",
]
