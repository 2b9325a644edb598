"""Sweeps: many runs of one workflow over a grid of config values, with replicates.

```python
from motools.sweep import run_sweep, collate, summarize, plot_metric

result = run_sweep(train_and_evaluate_workflow, config,
                   grid={"submit_training.hyperparameters.n_epochs": [1, 2, 4]},
                   replicates=3, max_parallel=4)
df = collate(result)                      # one row per point x task x scorer x metric
plot_metric(df, x="n_epochs", y="accuracy", out="epochs.png")
```

Analysis needs pandas and matplotlib (``pip install 'motools-core[analysis]'``); they
are imported only when used.
"""

from motools.sweep.analysis import collate, collate_rows, summarize, summarize_rows
from motools.sweep.definition import SweepDefinition, SweepPoint, load_sweep_file
from motools.sweep.execution import arun_sweep, run_sweep
from motools.sweep.planning import plan_sweep
from motools.sweep.plotting import plot_metric
from motools.sweep.result import PointResult, SweepResult

__all__ = [
    "PointResult",
    "SweepDefinition",
    "SweepPoint",
    "SweepResult",
    "arun_sweep",
    "collate",
    "collate_rows",
    "load_sweep_file",
    "plan_sweep",
    "plot_metric",
    "run_sweep",
    "summarize",
    "summarize_rows",
]
