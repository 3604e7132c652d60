"""The ``http`` provider: make one HTTP request as a step.

Step definition::

    kind: http
    request:                          # run keyword (required)
      url: https://example.org/api    #   http:// or https://
      method: POST                    #   default GET
      headers: {Accept: application/json}
      body: '{"x": 1}'                #   sent as UTF-8
    http:                             # provider keyword (optional)
      timeout: 30                     #   seconds for connecting and for each read
      max_body_bytes: 65536           #   longer bodies are cut (``truncated: true``)

Lifecycle::

    request ──> response   output success {status, reason, headers, body, truncated}
       │                   or error (error output) for a status of 400 and above
       ├──────> failed     output error {message} (connection refused, timeout, bad URL)
       └──────> closed     output closed {cancelled}

Redirects are not followed: a 3xx status is a ``success`` response with its ``location``
header. ``close()`` and ``force_close()`` shut the socket down, so they are immediate even
against a server that never answers.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

import attrs

from arcaflow_steps import Lifecycle, LifecycleStage, LifecycleStageWithSchema
from arcaflow_steps.authoring import (
    BaseRunningStep,
    Finish,
    Outcome,
    SimpleRunnableStep,
    StepProviderBase,
    on_stage,
    without_schemas,
)
from arcaflow_steps.schema import (
    BoolSchema,
    DisplayValue,
    IntSchema,
    MapSchema,
    PropertySchema,
    StepOutputSchema,
    StringSchema,
    object_scope,
)

from ._exchange import AbortedError, ExchangeError, HttpExchange

__all__ = ["LIFECYCLE", "HttpConfig", "HttpProvider", "HttpStage", "HttpStep"]


class HttpStage(enum.StrEnum):
    """The stages of an http step."""

    REQUEST = "request"
    RESPONSE = "response"
    FAILED = "failed"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class HttpConfig:
    """The ``http`` provider keyword: limits of every request."""

    __arcaflow_id__ = "HttpConfig"

    timeout: float = attrs.field(
        default=30.0,
        metadata={
            "name": "Timeout",
            "description": "Seconds for connecting and for each read.",
            "min": 0.001,
        },
    )
    max_body_bytes: int = attrs.field(
        default=65536,
        metadata={"name": "Body limit", "description": "Longer bodies are cut.", "min": 0},
    )


_STRING_MAP: Final = MapSchema(keys=StringSchema(), values=StringSchema())
_RESPONSE_SCOPE: Final = object_scope(
    "HttpResponse",
    status=PropertySchema(type=IntSchema(), required=True),
    reason=PropertySchema(type=StringSchema(), required=True),
    headers=PropertySchema(type=_STRING_MAP, required=True),
    body=PropertySchema(type=StringSchema(), required=True),
    truncated=PropertySchema(type=BoolSchema(), required=True),
)

LIFECYCLE: Final = Lifecycle(
    initial_stage=HttpStage.REQUEST,
    stages=[
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=HttpStage.REQUEST,
                waiting_name="waiting to send",
                running_name="requesting",
                finished_name="requested",
                next_stages={HttpStage.RESPONSE, HttpStage.FAILED, HttpStage.CLOSED},
            ),
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=HttpStage.RESPONSE, finished_name="answered"),
            outputs={
                "success": StepOutputSchema(
                    schema=_RESPONSE_SCOPE, display=DisplayValue(name="Status below 400")
                ),
                "error": StepOutputSchema(
                    schema=_RESPONSE_SCOPE,
                    display=DisplayValue(name="Status 400 or above"),
                    error=True,
                ),
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=HttpStage.FAILED, finished_name="failed", fatal=True),
            outputs={
                "error": StepOutputSchema(
                    schema=object_scope(
                        "HttpFailure",
                        message=PropertySchema(type=StringSchema(), required=True),
                    ),
                    display=DisplayValue(name="No response"),
                    error=True,
                )
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=HttpStage.CLOSED, finished_name="closed"),
            outputs={
                "closed": StepOutputSchema(
                    schema=object_scope(
                        "HttpClosed", cancelled=PropertySchema(type=BoolSchema(), required=True)
                    ),
                    display=DisplayValue(name="Closed"),
                )
            },
        ),
    ],
)

RUN_SCHEMA: Final = {
    "request": PropertySchema(
        type=object_scope(
            "HttpRequest",
            url=PropertySchema(
                type=StringSchema(min=1, pattern=r"^https?://"),
                required=True,
                display=DisplayValue(name="URL"),
            ),
            method=PropertySchema(
                type=StringSchema(min=1, pattern=r"^[A-Z]+$"),
                default='"GET"',
                display=DisplayValue(name="Method"),
            ),
            headers=PropertySchema(type=_STRING_MAP, default="{}"),
            body=PropertySchema(type=StringSchema(), display=DisplayValue(name="Body")),
        ),
        required=True,
        display=DisplayValue(name="Request"),
    )
}


class HttpStep(BaseRunningStep):
    """One request.

    Thread safety: safe to share.
    """

    blocking = True

    def __init__(self, config: HttpConfig, request: Mapping[str, Any]) -> None:
        super().__init__()
        self._exchange = HttpExchange(
            method=request.get("method", "GET"),
            url=request["url"],
            headers=request.get("headers") or {},
            body=request.get("body"),
            timeout=config.timeout,
            max_body_bytes=config.max_body_bytes,
        )

    @on_stage(HttpStage.REQUEST)
    def request(self, inputs: Mapping[str, Any]) -> Outcome:
        """Send the request and read the response."""
        del inputs
        try:
            response = self._exchange.perform()
        except AbortedError:
            return self.closed_outcome(HttpStage.REQUEST, forced=False)
        except ExchangeError as exc:
            return Finish(stage=HttpStage.FAILED, output_id="error", output={"message": str(exc)})
        return Finish(
            stage=HttpStage.RESPONSE,
            output_id="success" if response.status < 400 else "error",
            output={
                "status": response.status,
                "reason": response.reason,
                "headers": dict(response.headers),
                "body": response.body,
                "truncated": response.truncated,
            },
        )

    def close(self) -> None:
        """Abort the request in flight (a graceful close cannot wait for a slow server)."""
        self._exchange.abort()
        super().close()

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        """Abort the request and end in ``closed``."""
        del stage, forced
        self._exchange.abort()
        return Finish(stage=HttpStage.CLOSED, output_id="closed", output={"cancelled": True})


class HttpProvider(StepProviderBase[HttpConfig]):
    """The provider of kind ``http``.

    Thread safety: safe to share (immutable).
    """

    kind = "http"
    provider_keyword = "http"
    run_keyword = "request"
    config_type = HttpConfig

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""
        return without_schemas(LIFECYCLE)

    def load_schema(self, provider_input: HttpConfig) -> SimpleRunnableStep:
        """Return the runnable http step for this configuration."""
        return SimpleRunnableStep(
            LIFECYCLE,
            RUN_SCHEMA,
            lambda run_input, run_id: HttpStep(provider_input, run_input["request"]),
        )
