"""The public basic-examples workflows (arcaflow-workflows' ``basic-examples``), run here.

Each directory of ``basic_examples/`` is an upstream example with only its plugin ``src`` and
``deployment_type`` lines changed (and config-file's config given a python deployer entry): the
replicas in ``tests/plugins/`` (same schemas as the quay.io images) run with the python
deployer (``basic_examples/README.md``). Our CLI runs each as the upstream README says
(``arcaflow -input input.yaml`` in its directory) and must give the exit code, output id and
output data the Go engine 0.21.0 gave on the same files (``expected_go.yaml``, recorded by
``basic_examples/record_go.py``), the same stdout document and ``-get-namespaces`` table byte
for byte; the metadata plugin's facts are compared by shape
(``basic_examples_support.comparable``) and checked here against the machine. ``VARIANTS``
(other inputs: failure paths) are compared with Go the same way. The config-file example also
runs as upstream wrote it, an ``image`` step with its podman config, on the replica's test
image (and on Docker). No run leaves a plugin process behind.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from basic_examples_support import (
    EXAMPLES,
    EXAMPLES_DIR,
    FACT_FIELDS,
    VARIANTS,
    Example,
    Variant,
    comparable,
)
from cli_support import CLI, descendants, wait_gone
from container_support import image, require_docker, require_podman

from arcaflow_steps.workflow._yaml import load_data_yaml


def _run(
    example: Example, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the example's command in its directory; assert it left no plugin process behind
    (every process seen below the CLI while it ran has ended soon after)."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [CLI, "workflow", *example.args],
            cwd=EXAMPLES_DIR / example.name,
            stdout=stdout,
            stderr=stderr,
            text=True,
            env={**os.environ, **example.env} if env is None else env,
        )
        seen: set[int] = set()
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            seen |= descendants(process.pid)
            time.sleep(0.02)
        returncode = process.wait(timeout=1)
        assert seen or returncode != 0, "an output without a plugin process"
        assert wait_gone(seen) == set()
        stdout.seek(0)
        stderr.seek(0)
        return subprocess.CompletedProcess(process.args, returncode, stdout.read(), stderr.read())


def _expected(example: Example) -> dict[str, Any]:
    expected: dict[str, Any] = yaml.safe_load(
        (EXAMPLES_DIR / example.name / "expected_go.yaml").read_text()
    )
    return expected


def _check_facts(facts: dict[str, Any]) -> None:
    assert list(facts) == sorted(FACT_FIELDS)  # the document's keys are sorted
    assert facts["architecture"] == platform.machine()
    assert facts["kernel"] == platform.release()
    assert facts["fqdn"] == socket.getfqdn()
    assert facts["memtotal_mb"] > 0
    assert facts["processor_count"] >= 1
    assert facts["processor_cores"] >= 1
    assert len(facts["processor"]) % 3 == 0
    assert facts["processor"]
    assert facts["env"]["PATH"] == os.environ["PATH"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_the_same_result_as_the_go_engine(example: Example) -> None:
    expected = _expected(example)
    done = _run(example)
    assert done.returncode == expected["exit_code"] == 0, done.stderr
    document = load_data_yaml(done.stdout, "stdout")
    assert document["output_id"] == expected["output_id"] == "success"
    assert comparable(document["output_data"]) == expected["output_data"]
    if "go_stdout" in expected:  # nothing machine-specific: the same document, byte for byte
        assert done.stdout == expected["go_stdout"]
    # What ``comparable`` hid, checked against this machine.
    data = document["output_data"]
    if "metadata" in data:
        _check_facts(data["metadata"])
    if example.name == "serial-data_passing":
        assert data == {"example": {"message": f"Hello, {socket.getfqdn()}!"}}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_the_same_namespaces_as_the_go_engine(example: Example) -> None:
    expected = _expected(example)
    done = _run(attrs.evolve(example, args=(*example.args, "-get-namespaces")))
    assert done.returncode == expected["go_namespaces_exit_code"] == 0, done.stderr
    assert done.stdout == expected["go_namespaces"]


def test_config_file_without_hostname_fails_naming_the_key() -> None:
    (example,) = (example for example in EXAMPLES if example.name == "config-file")
    environment = {key: value for key, value in os.environ.items() if key != "HOSTNAME"}
    done = _run(example, env=environment)
    assert done.returncode == 3
    assert done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "arcaflow-steps: error: workflow failed: no output can be produced any more: "
        "success failed: outputs.success.hostname: $.steps.metadata.outputs.success.env: "
        "no key 'HOSTNAME'; keys: "
    )
    assert last.endswith("""(in expression "$.steps.metadata.outputs.success.env['HOSTNAME']")""")


def test_every_example_is_ported_and_recorded() -> None:
    directories = sorted(path.name for path in EXAMPLES_DIR.iterdir() if path.is_dir())
    assert directories == sorted(example.name for example in EXAMPLES)
    for name in directories:
        assert (EXAMPLES_DIR / name / "workflow.yaml").is_file()
        assert (EXAMPLES_DIR / name / "expected_go.yaml").is_file()


@pytest.mark.parametrize("engine", ["podman", "docker"])
@pytest.mark.parametrize("host_network", [True, False], ids=["host-network", "own-network"])
def test_config_file_as_upstream_with_an_image(
    engine: str, host_network: bool, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """The upstream step (``deployment_type: image``) and config (podman, host network)."""
    (require_podman if engine == "podman" else require_docker)(pytestconfig)
    source = EXAMPLES_DIR / "config-file"
    workflow = (source / "workflow.yaml").read_text()
    workflow = workflow.replace("deployment_type: python", "deployment_type: image")
    workflow = workflow.replace(
        "src: ../../../plugins/plugin_metadata.py", f"src: {image('plugin_metadata')}"
    )
    (tmp_path / "workflow.yaml").write_text(workflow)
    config = (
        (source / "config.yaml")
        .read_text()
        .replace("deployer_name: podman", f"deployer_name: {engine}")
    )
    if not host_network:
        config = config.replace("NetworkMode: host", "NetworkMode: bridge")
    (tmp_path / "config.yaml").write_text(config)
    done = subprocess.run(
        [CLI, "workflow", "-config", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = load_data_yaml(done.stdout, "stdout")
    assert document["output_id"] == "success"
    (hostname,) = document["output_data"].values()
    # With the host's network the container has the host's name; else its own (its id).
    assert (hostname == socket.gethostname()) is host_network, hostname


#: Our last stderr line for each failing variant (``{input}``: the input file's path).
VARIANT_ERRORS = {
    "nickname-not-letters": (
        "arcaflow-steps: error: workflow failed: no output can be produced any more: success "
        "needs steps.example.outputs.success, but step 'example' ended in stage 'closed' with "
        "output 'result': step 'example': refused input for stage 'starting': 'Arca1ot' does "
        "not match the pattern '^[a-zA-Z]+$' @ steps.example.input.name.nick"
    ),
    "input-missing-field": (
        "arcaflow-steps: error: {input}: invalid workflow input: missing required field "
        "'nickname' @ $.input"
    ),
    "fullname-without-last-name": (
        "arcaflow-steps: error: {input}: invalid workflow input: missing required field "
        "'last_name' @ $.input.example_plugin_params.name"
    ),
    "unknown-name-type": (
        "arcaflow-steps: error: {input}: invalid workflow input: invalid discriminator 'nope'; "
        "valid values: 'fullname', 'nickname' @ $.input.example_plugin_params.name._type"
    ),
    "foreach-item-refused": (
        "arcaflow-steps: error: workflow failed: no output can be produced any more: success "
        "needs steps.foreach_loop.outputs.success, but step 'foreach_loop' ended in stage "
        "'failed' with output 'error': item 1 failed: no output can be produced any more: "
        "success needs steps.example.outputs.success, but step 'example' ended in stage "
        "'closed' with output 'result': step 'example': refused input for stage 'starting': "
        "'R1ngo' does not match the pattern '^[a-zA-Z]+$' @ steps.example.input.name.nick"
    ),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_a_variant_ends_as_in_the_go_engine(variant: Variant, tmp_path: Path) -> None:
    expected = yaml.safe_load((EXAMPLES_DIR / "variants_expected_go.yaml").read_text())
    expected = expected[variant.name]
    input_path = tmp_path / "input.yaml"
    input_path.write_text(variant.input_text)
    done = _run(Example(name=variant.example, args=("-input", str(input_path))))
    assert done.returncode == expected["exit_code"], done.stderr
    if "output_id" in expected:
        document = load_data_yaml(done.stdout, "stdout")
        assert document["output_id"] == expected["output_id"]
        assert comparable(document["output_data"]) == expected["output_data"]
        if "go_stdout" in expected:
            assert done.stdout == expected["go_stdout"]
    else:
        assert done.stdout == ""
        last = done.stderr.strip().splitlines()[-1]
        assert last == VARIANT_ERRORS[variant.name].format(input=input_path)


def test_every_variant_was_recorded() -> None:
    expected = yaml.safe_load((EXAMPLES_DIR / "variants_expected_go.yaml").read_text())
    assert list(expected) == [variant.name for variant in VARIANTS]
    failing = sorted(name for name, record in expected.items() if "output_id" not in record)
    assert failing == sorted(VARIANT_ERRORS)
