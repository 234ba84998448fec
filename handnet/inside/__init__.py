"""Looking inside a network: what each unit responds to.

``effective`` multiplies weights down to pixel templates; ``probes`` runs noise and ablation
probes; ``selectivity`` measures how often each unit fires on each digit, against the digits its
spec names; ``tuning_curves`` sweeps drawn strokes across a unit; ``maximize`` finds the input that
excites a unit most (objectives, parameterizations, search and bounds, each its own module).
Uses ``handnet.spec`` (strokes), ``handnet.nn`` and the foundation modules; never ``viz``.
"""
