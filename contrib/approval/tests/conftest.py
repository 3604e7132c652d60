"""Opt in to the arcaflow-steps conformance kit for this package's tests."""

pytest_plugins = ["arcaflow_steps.testing"]
