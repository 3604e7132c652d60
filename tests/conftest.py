"""Run-wide test configuration shared by every test module."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-container-engines",
        action="store_true",
        default=False,
        help="fail (instead of skip) container tests when Docker or podman is unreachable",
    )


def require_or_skip(config: pytest.Config, reason: str) -> None:
    """Skip the current test with ``reason``, or fail it when container engines are required."""
    if config.getoption("--require-container-engines"):
        pytest.fail(f"container engine required but unavailable: {reason}")
    pytest.skip(reason)
