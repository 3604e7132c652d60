"""The Arcaflow expression language: parse, evaluate, dependency paths, type inference."""

from __future__ import annotations

from ._evaluate import evaluate
from ._parser import parse_expression
from ._paths import Path, expression_paths

__all__ = ["Path", "evaluate", "expression_paths", "parse_expression"]
