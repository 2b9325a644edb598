"""Workflows: typed DAGs of steps passing atoms, with caching, provenance and resume.

```python
from motools.workflow import Workflow, Step, AtomConstructor, run_workflow
```
"""

from motools.workflow.config import StepConfig, WorkflowConfig
from motools.workflow.context import StepContext, current_step
from motools.workflow.core import AtomConstructor, Step, Workflow
from motools.workflow.engine import WorkflowFailed, arun_workflow, plan_workflow, run_workflow
from motools.workflow.state import StepState, WorkflowState

__all__ = [
    "AtomConstructor",
    "Step",
    "StepConfig",
    "StepContext",
    "StepState",
    "Workflow",
    "WorkflowConfig",
    "WorkflowFailed",
    "WorkflowState",
    "arun_workflow",
    "current_step",
    "plan_workflow",
    "run_workflow",
]
