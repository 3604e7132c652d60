"""The http provider talks to a real server on loopback and obeys the conformance kit."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import pytest
from arcaflow_steps_http import HttpProvider

from arcaflow_steps.testing import ConformanceCase, ProviderConformance, RunStep, StartStep


class TestHttpConformance(ProviderConformance):
    """The http provider passes the whole conformance kit."""

    @pytest.fixture
    def provider(self) -> HttpProvider:
        return HttpProvider()

    @pytest.fixture
    def conformance_cases(self, server_url: str, closed_port_url: str) -> Sequence[ConformanceCase]:
        return [
            ConformanceCase(
                id="ok",
                definition={"request": {"url": f"{server_url}/status/200"}},
                expected_stage="response",
                expected_output_id="success",
            ),
            ConformanceCase(
                id="not-found",
                definition={"request": {"url": f"{server_url}/status/404"}},
                expected_stage="response",
                expected_output_id="error",
            ),
            ConformanceCase(
                id="refused",
                definition={"request": {"url": closed_port_url}},
                expected_stage="failed",
                expected_output_id="error",
            ),
            ConformanceCase(
                id="slow-server",
                definition={"request": {"url": f"{server_url}/slow?seconds=30"}},
                expected_stage="closed",
                expected_output_id="closed",
                close_after=0.2,
            ),
        ]


def test_get_returns_status_headers_and_body(run_step: RunStep, server_url: str) -> None:
    """A 200 response is the success output with its status, headers and body."""
    outcome = run_step(HttpProvider(), {"request": {"url": f"{server_url}/status/200"}})
    outcome.assert_output("success", stage="response")
    assert outcome.output_data["status"] == 200
    assert outcome.output_data["reason"] == "OK"
    assert outcome.output_data["body"] == "status 200"
    assert outcome.output_data["headers"]["x-test-server"] == "yes"
    assert outcome.output_data["truncated"] is False


def test_post_sends_method_headers_and_body(run_step: RunStep, server_url: str) -> None:
    """Method, headers and body of the request reach the server."""
    outcome = run_step(
        HttpProvider(),
        {
            "request": {
                "url": f"{server_url}/echo?x=1",
                "method": "POST",
                "headers": {"X-Token": "abc", "Content-Type": "text/plain"},
                "body": "hello",
            }
        },
    )
    outcome.assert_success("success")
    echoed = json.loads(outcome.output_data["body"])
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/echo?x=1"
    assert echoed["headers"]["x-token"] == "abc"
    assert echoed["body"] == "hello"


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_error_statuses_are_error_outputs(run_step: RunStep, server_url: str, status: int) -> None:
    """A status of 400 or above is the error output of the response stage."""
    outcome = run_step(HttpProvider(), {"request": {"url": f"{server_url}/status/{status}"}})
    outcome.assert_error("error")
    assert outcome.stage == "response"
    assert outcome.output_data["status"] == status


def test_refused_connection_fails(run_step: RunStep, closed_port_url: str) -> None:
    """A refused connection ends in failed with a message naming the request."""
    outcome = run_step(HttpProvider(), {"request": {"url": closed_port_url}})
    outcome.assert_error("error")
    assert outcome.stages_entered == ("request", "failed")
    message = outcome.output_data["message"]
    assert message.startswith(f"GET {closed_port_url} failed: ConnectionRefusedError")


def test_long_body_is_truncated(run_step: RunStep, server_url: str) -> None:
    """A body longer than max_body_bytes is cut and marked truncated."""
    outcome = run_step(
        HttpProvider(),
        {"request": {"url": f"{server_url}/big?bytes=1000"}, "http": {"max_body_bytes": 10}},
    )
    outcome.assert_success()
    assert outcome.output_data["body"] == "x" * 10
    assert outcome.output_data["truncated"] is True


def test_read_timeout_fails(run_step: RunStep, server_url: str) -> None:
    """A server slower than the timeout makes the step fail, not hang."""
    started = time.monotonic()
    outcome = run_step(
        HttpProvider(),
        {"request": {"url": f"{server_url}/slow?seconds=30"}, "http": {"timeout": 0.3}},
    )
    outcome.assert_error("error")
    assert outcome.stage == "failed"
    assert "timed out" in outcome.output_data["message"]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("force", [False, True], ids=["close", "force_close"])
def test_close_aborts_a_request_in_flight(
    start_step: StartStep, server_url: str, force: bool
) -> None:
    """Closing while the server has not answered ends the step at once in closed."""
    step = start_step(HttpProvider(), {"request": {"url": f"{server_url}/slow?seconds=30"}})
    assert step.wait_for_stage("request")
    time.sleep(0.1)
    started = time.monotonic()
    assert step.close(force=force)
    assert time.monotonic() - started < 3  # generous for loaded CI machines
    step.wait().assert_output("closed", stage="closed", data={"cancelled": True})
