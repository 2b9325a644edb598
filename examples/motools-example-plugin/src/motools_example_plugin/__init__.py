"""An example third-party motools plugin.

It registers, purely through its ``motools`` entry point:

- a custom atom type ``wordcount`` (:class:`WordCountAtom`);
- a tiny workflow ``example_wordcount`` that counts the words of a dataset's
  assistant replies and stores the counts as a ``wordcount`` atom.

Registration is cheap: the workflow is described by a :class:`WorkflowSpec` and its
module is imported only when the workflow is used.
"""

from __future__ import annotations

from typing import Any

from motools.hookspecs import hookimpl
from motools.specs import WorkflowSpec


@hookimpl
def register_atom_types(register: Any) -> None:
    from motools_example_plugin.atoms import WordCountAtom

    register(WordCountAtom)


@hookimpl
def register_workflows(register: Any) -> None:
    register(
        WorkflowSpec(
            name="example_wordcount",
            impl="motools_example_plugin.workflow:wordcount_workflow",
            description="Count words in a dataset's assistant replies (example plugin).",
            steps=("make_dataset", "count_words"),
        )
    )
