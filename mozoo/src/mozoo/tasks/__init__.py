"""The zoo's Inspect tasks (``mozoo/<name>`` in Inspect's registry; list: ``motools zoo tasks``).

Each module is importable on its own; :mod:`mozoo._inspect_registry` imports them all
for Inspect's entry point.
"""
