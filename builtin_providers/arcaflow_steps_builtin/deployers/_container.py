"""What the ``docker`` and ``podman`` deployers share: pull policy, names, labels, schema bits.

Neither engine's client library is imported here, so the deployer modules stay importable
(and listable) without their optional dependencies.
"""

from __future__ import annotations

import enum
import os
import secrets
from collections.abc import Mapping
from typing import Any, Final

from arcaflow_steps.schema import (
    BoolSchema,
    DisplayValue,
    ListSchema,
    MapSchema,
    PropertySchema,
    StringEnumSchema,
    StringSchema,
)

from ._container_owner import CONTAINER_LABEL, OWNER_LABEL, ContainerOwner

__all__ = [
    "CONTAINER_LABEL",
    "OWNER_LABEL",
    "PULL_POLICY_PROPERTY",
    "ImagePullPolicy",
    "bool_prop",
    "container_labels",
    "container_name",
    "string_list_prop",
    "string_map_prop",
    "string_prop",
]


class ImagePullPolicy(enum.StrEnum):
    """When to pull the plugin image (Arcaflow's ``imagePullPolicy``)."""

    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


def string_prop(description: str, *, default: str | None = None, **kwargs: Any) -> PropertySchema:
    """Return an optional string property (``default`` is the plain default value)."""
    return PropertySchema(
        type=StringSchema(**kwargs),
        display=DisplayValue(description=description),
        default=None if default is None else f'"{default}"',
    )


def bool_prop(description: str, *, default: bool | None = None) -> PropertySchema:
    """Return an optional boolean property."""
    return PropertySchema(
        type=BoolSchema(),
        display=DisplayValue(description=description),
        default=None if default is None else ("true" if default else "false"),
    )


def string_list_prop(description: str) -> PropertySchema:
    """Return an optional list-of-strings property."""
    return PropertySchema(
        type=ListSchema(items=StringSchema()), display=DisplayValue(description=description)
    )


def string_map_prop(description: str) -> PropertySchema:
    """Return an optional string-to-string map property."""
    return PropertySchema(
        type=MapSchema(keys=StringSchema(min=1), values=StringSchema()),
        display=DisplayValue(description=description),
    )


PULL_POLICY_PROPERTY: Final = PropertySchema(
    type=StringEnumSchema(
        values={
            ImagePullPolicy.ALWAYS.value: DisplayValue(
                name="Always", description="Pull once per deployer, before the first deploy."
            ),
            ImagePullPolicy.IF_NOT_PRESENT.value: DisplayValue(
                name="If not present", description="Pull only when the image is missing."
            ),
            ImagePullPolicy.NEVER.value: DisplayValue(
                name="Never", description="Never pull; a missing image fails the deployment."
            ),
        }
    ),
    display=DisplayValue(name="Image pull policy", description="When to pull the plugin image."),
    default=f'"{ImagePullPolicy.IF_NOT_PRESENT.value}"',
)


def container_name(prefix: str) -> str:
    """Return ``<prefix>_<10 random lowercase hex digits>`` (Arcaflow's naming)."""
    return f"{prefix}_{secrets.token_hex(5)}"


def container_labels(deployer_name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the labels every container of ours carries: the deployer and its owner.

    The owner labels (:mod:`._container_owner`) let a later run tell whether the process that
    started the container is gone; without /proc only the pid is recorded (never judged).
    """
    labels = dict(extra or {})
    labels[CONTAINER_LABEL] = deployer_name
    owner = ContainerOwner.current()
    if owner is None:
        labels[OWNER_LABEL] = str(os.getpid())
    else:
        labels.update(owner.labels())
    return labels
