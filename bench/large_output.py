"""Peak memory of `arcaflow-steps run` for one plugin output holding a large string.

Usage: python bench/large_output.py [--cli PATH] [--sizes 30,100] [--formats yaml,json]

Runs the raw fake plugin tests/plugins/fake_large.py (step ``large``: ``{message: "x" * N}``,
streamed by the plugin in 1 MiB writes) with the python deployer, the plugin on this
interpreter (``deploy.pythonPath``: it needs only cbor2), and reports the CLI's peak RSS
(``ru_maxrss`` of a child that runs only the CLI, so the plugin's own peak is included only if
larger) and wall time. Prints a Markdown table. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "tests" / "plugins" / "fake_large.py"
MB = 1_000_000
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
    ".returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, code)\n"
)


def measure(cli: str, size: int, output_format: str, work: Path) -> tuple[int, int, float]:
    """Return (peak RSS in bytes, exit code, seconds) of one run."""
    step = work / f"large-{size}.json"  # JSON is YAML: no PyYAML needed here
    step.write_text(
        json.dumps(
            {
                "plugin": {"src": str(PLUGIN), "deployment_type": "python"},
                "deploy": {"deployer_name": "python", "pythonPath": sys.executable},
                "step": "large",
                "input": {"size": size},
            }
        )
    )
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, cli, "run", "-q", "--format", output_format, str(step)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.monotonic() - started
    peak, code = completed.stdout.split()
    return int(peak), int(code), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=shutil.which("arcaflow-steps") or "arcaflow-steps")
    parser.add_argument("--sizes", default="30,100", help="output sizes in MB (10^6 bytes)")
    parser.add_argument("--formats", default="yaml,json")
    args = parser.parse_args()
    cbor2 = (
        subprocess.run(
            [
                str(Path(args.cli).with_name("python")),
                "-c",
                "import importlib.metadata as m; print(m.version('cbor2'))",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "?"
    )
    print(f"CLI {args.cli} (cbor2 {cbor2}); peak RSS over the output size\n")
    print("| output | format | exit | peak RSS | ratio | wall |")
    print("|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        for size_mb in (int(size) for size in args.sizes.split(",")):
            for output_format in args.formats.split(","):
                peak, code, elapsed = measure(args.cli, size_mb * MB, output_format, Path(work))
                print(
                    f"| {size_mb} MB | {output_format} | {code} | {peak / MB:.0f} MB | "
                    f"{peak / (size_mb * MB):.2f}x | {elapsed:.2f} s |"
                )


if __name__ == "__main__":
    main()
