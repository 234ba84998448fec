"""Every figure: functions from arrays (and the library's result objects) to matplotlib Figures.

``style`` is the one figure style (palettes, weight colours, sizes); ``plots`` weight grids,
digits, maximizers, tuning curves and the lit-up diagram; ``compare`` and ``tune`` the figures of
those stages; ``gallery`` the standard figure sets of a network; ``notebook`` the Jupyter views;
``report`` the HTML report's layout. May use every package above it; saving and file names stay
at the edge (``handnet.atomic.save_figure``). matplotlib is imported inside functions, so
importing ``viz`` is cheap.
"""
