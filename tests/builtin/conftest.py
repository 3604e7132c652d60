"""Fixtures shared by the container deployer tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from container_support import our_containers, require_docker, require_podman


@pytest.fixture(params=["docker", "podman"])
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each container engine; afterwards no container of this process may be left."""
    name = str(request.param)
    if name == "docker":
        request.applymarker(pytest.mark.docker)
        require_docker(request.config)
    else:
        request.applymarker(pytest.mark.podman)
        require_podman(request.config)
    yield name
    assert [] == our_containers(name)
