"""The Arcaflow expression language: parse, evaluate, dependency paths, type inference."""

from __future__ import annotations

from ._compatible import assignable_problems
from ._evaluate import evaluate
from ._functions import FUNCTIONS, Function
from ._parser import parse_expression
from ._paths import Path, expression_paths
from ._types import infer_type

__all__ = [
    "FUNCTIONS",
    "Function",
    "Path",
    "assignable_problems",
    "evaluate",
    "expression_paths",
    "infer_type",
    "parse_expression",
]
