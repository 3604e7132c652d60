"""Arcaflow workflows: workflow files run by the registry and the shared runner.

Work in progress (issue 11): the public API is added here as its parts land.
"""
