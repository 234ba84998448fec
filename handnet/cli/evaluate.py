"""CLI commands for this area; see the module docstrings in handnet/ for the library behind them."""

commands = []  # click commands registered on the main group by handnet/cli/__init__.py
