"""Inspect registry entry point for mozoo tasks."""
