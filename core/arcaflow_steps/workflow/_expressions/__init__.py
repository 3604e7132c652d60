"""The Arcaflow expression language: parse, evaluate, dependency paths, type inference."""

from __future__ import annotations

from ._parser import parse_expression

__all__ = ["parse_expression"]
