"""Container deployer overhead: ours (python, docker, podman) against the Go engine's docker.

Theory of operation
-------------------
Every engine runs N independent ``hello-world`` steps of the same test plugin
(``tests/plugins/plugin_hello.py``): as a local process for our ``python`` deployer, and as the
image ``arcaflow-steps-test/plugin_hello:latest`` (``images/build-test-image.sh``) for the
container deployers (default ``imagePullPolicy: IfNotPresent``; the image is present).
Each run is one OS process timed from spawn to exit, as a user sees it:

* ``ours-python`` / ``ours-docker`` / ``ours-podman``:
  ``arcaflow-steps run FILE --parallelism N`` with a ``steps:`` map of N steps;
* ``go-docker`` / ``go-podman``: ``arcaflow -input -config -workflow`` (``arcaflow==0.21.0``
  from PyPI, the engine binary ships in the wheel), its deployer for type ``image`` set to
  docker or podman; the workflow output references every step so the engine waits for all.

One warm-up run per (engine, N), then ``--runs`` timed runs interleaved across engines; the
median is reported, with the per-step overhead over ``ours-python`` and the speed-up of ours
over Go on the same engine. After every run the script checks that no container is left.

Usage::

    bash .ci/containers.sh                          # dockerd, podman, test images
    python -m venv /tmp/go && /tmp/go/bin/pip install arcaflow==0.21.0
    python bench/container_overhead.py --go-venv /tmp/go [--runs 5] [--counts 1 32]

Prints a Markdown table (and writes it to ``--output`` if given).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PLUGIN_FILE = ROOT / "tests" / "plugins" / "plugin_hello.py"
IMAGE = "arcaflow-steps-test/plugin_hello:latest"
ENGINES = ("ours-python", "ours-docker", "ours-podman", "go-docker", "go-podman")


def _ours_file(engine: str, count: int, directory: Path) -> list[str]:
    deployer = engine.removeprefix("ours-")
    lines = ["steps:"]
    for index in range(count):
        lines.append(f"  s{index}:")
        if deployer == "python":
            lines.append(f"    plugin: {{src: {PLUGIN_FILE}, deployment_type: python}}")
        else:
            lines.append(f"    plugin: {{src: '{IMAGE}', deployment_type: image}}")
            # docker is the default deployer of type image: no deploy key, so the schema
            # probe's container is the one the step runs on (a deploy config that differs from
            # the default makes the provider deploy a second container after the probe).
            if deployer != "docker":
                lines.append(f"    deploy: {{deployer_name: {deployer}}}")
        lines.append(f"    input: {{name: n{index}}}")
    path = directory / "steps.yaml"
    path.write_text("\n".join(lines) + "\n")
    cli = shutil.which("arcaflow-steps") or str(Path(sys.executable).parent / "arcaflow-steps")
    return [cli, "run", str(path), "--parallelism", str(count)]


def _go_files(engine: str, count: int, directory: Path, go_binary: Path) -> list[str]:
    deployer = engine.removeprefix("go-")
    lines = [
        "version: v0.2.0",
        "input:",
        "  root: RootObject",
        "  objects:",
        "    RootObject:",
        "      id: RootObject",
        "      properties: {}",
        "steps:",
    ]
    for index in range(count):
        lines += [
            f"  s{index}:",
            "    plugin:",
            f"      src: {IMAGE}",
            "      deployment_type: image",
            f"    input: {{name: n{index}}}",
        ]
    lines += ["outputs:", "  success:"]
    lines += [f"    s{i}: !expr $.steps.s{i}.outputs.success" for i in range(count)]
    (directory / "workflow.yaml").write_text("\n".join(lines) + "\n")
    (directory / "input.yaml").write_text("{}\n")
    # Go's podman deployer does not find podman-loaded images and tries to pull with
    # IfNotPresent; its "Always" never pulls (a known bug, reference §7), so use that.
    policy = "Always" if deployer == "podman" else "IfNotPresent"
    (directory / "config.yaml").write_text(
        "log:\n  level: error\n"
        "deployers:\n  image:\n"
        f"    deployer_name: {deployer}\n"
        f"    deployment:\n      imagePullPolicy: {policy}\n"
    )
    return [
        str(go_binary),
        "-context",
        str(directory),
        "-input",
        str(directory / "input.yaml"),
        "-config",
        str(directory / "config.yaml"),
        "-workflow",
        str(directory / "workflow.yaml"),
    ]


def _leftovers(wait: float = 10.0) -> int:
    """Return how many containers exist, after waiting up to ``wait`` s for them to go."""
    deadline = time.monotonic() + wait
    while True:
        count = _count_containers()
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def _count_containers() -> int:
    count = 0
    for engine in ("docker", "podman"):
        result = subprocess.run([engine, "ps", "-aq"], capture_output=True, text=True, check=False)
        count += len(result.stdout.split())
    return count


def _run_once(argv: Sequence[str], count: int) -> float:
    started = time.perf_counter()
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    produced = result.stdout.count("Hello, n")
    if result.returncode != 0 or produced != count:
        raise RuntimeError(
            f"{argv[0]} failed (exit {result.returncode}, {produced}/{count} outputs):\n"
            f"{result.stderr[-2000:]}"
        )
    return elapsed


def _go_binary(go_venv: Path | None) -> Path | None:
    if go_venv is None:
        return None
    found = sorted(go_venv.glob("lib/python*/site-packages/arcaflow/bin/arcaflow"))
    return found[0] if found else None


def _measure(
    engines: Sequence[str], counts: Sequence[int], runs: int, go_binary: Path | None
) -> dict[tuple[str, int], list[float]]:
    times: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="container-bench-") as tmp:
        for count in counts:
            commands: dict[str, list[str]] = {}
            for engine in engines:
                directory = Path(tmp) / f"{engine}-{count}"
                directory.mkdir()
                if engine.startswith("go-"):
                    assert go_binary is not None
                    commands[engine] = _go_files(engine, count, directory, go_binary)
                else:
                    commands[engine] = _ours_file(engine, count, directory)
            for engine in engines:  # warm-up
                _run_once(commands[engine], count)
                _leftovers()
            for _ in range(runs):
                for engine in engines:
                    elapsed = _run_once(commands[engine], count)
                    times.setdefault((engine, count), []).append(elapsed)
                    left = _leftovers()
                    if left:
                        raise RuntimeError(f"{engine} x{count} left {left} containers")
    return times


def _table(times: dict[tuple[str, int], list[float]], counts: Sequence[int]) -> str:
    lines = [
        "| engine | N | median wall (s) | min | per-step overhead vs ours-python (s) "
        "| ours vs Go, same engine |",
        "|---|---|---|---|---|---|",
    ]
    for count in counts:
        python = times.get(("ours-python", count))
        base = statistics.median(python) if python else None
        for (engine, n), samples in times.items():
            if n != count:
                continue
            median = statistics.median(samples)
            overhead = "" if base is None else f"{(median - base) / count:+.3f}"
            go = times.get(("go-" + engine.removeprefix("ours-"), count))
            versus = ""
            if engine.startswith("ours-") and go:
                versus = f"{statistics.median(go) / median:.2f}x faster"
            cells = [engine, str(count), f"{median:.3f}", f"{min(samples):.3f}", overhead, versus]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--go-venv", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    go_binary = _go_binary(args.go_venv)
    engines = [e for e in args.engines if go_binary is not None or not e.startswith("go-")]
    times = _measure(engines, args.counts, args.runs, go_binary)
    table = _table(times, args.counts)
    print(table)
    if args.output is not None:
        args.output.write_text(table + "\n")
    if args.json is not None:
        raw = {f"{engine}/{count}": samples for (engine, count), samples in times.items()}
        args.json.write_text(json.dumps(raw, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
