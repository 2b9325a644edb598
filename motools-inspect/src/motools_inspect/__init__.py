"""motools-inspect: the ``inspect`` evaluation backend (Inspect AI) for motools.

Importing this package does not import Inspect.  ``results(eval_atom_or_id)`` returns
evaluation results as a tidy table.
"""

from motools_inspect.results import results

__all__ = ["results"]
