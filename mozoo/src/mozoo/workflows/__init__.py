"""Ready workflows: ``train_and_evaluate`` and ``evaluate_only`` (see docs/workflows.md)."""
