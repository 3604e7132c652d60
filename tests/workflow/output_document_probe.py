"""Record the Go engine's stdout document for every case of ``output_document_cases``.

Run from the repository root after ``bench/setup.sh`` (it installs the engine binary, a config
for its python deployer and the bench plugin's venv):

    .venv/bin/python tests/workflow/output_document_probe.py

It writes ``tests/workflow/data/go-output-document-<case>.out``, exactly the bytes the engine
printed on stdout (exit 0 required).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from output_document_cases import CASES, INPUT, workflow_text  # noqa: E402

WORK = HERE.parent.parent / "bench" / ".work"


def main() -> None:
    engine = next(WORK.glob("go-venv/lib/python*/site-packages/arcaflow/bin/arcaflow"))
    config = WORK / "generated" / "hello-1" / "go" / "config.yaml"
    for case in CASES:
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "wf.yaml").write_text(workflow_text(case))
            (Path(directory) / "in.yaml").write_text(json.dumps(INPUT))
            done = subprocess.run(
                [engine, "-config", config, "-workflow", "wf.yaml", "-input", "in.yaml"],
                cwd=directory,
                capture_output=True,
                timeout=300,
                check=False,
            )
        if done.returncode != 0:
            raise SystemExit(f"{case}: exit {done.returncode}: {done.stderr.decode()[-2000:]}")
        (HERE / "data" / f"go-output-document-{case}.out").write_bytes(done.stdout)
        print(f"{case}: {len(done.stdout)} bytes")


if __name__ == "__main__":
    main()
