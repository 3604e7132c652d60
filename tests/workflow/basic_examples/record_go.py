"""Record what the Go engine 0.21.0 does with each basic example (``<example>/expected_go.yaml``).

Run by hand after ``bench/setup.sh`` (it installs the engine and a venv with
``arcaflow-plugin-sdk==0.14.3``)::

    python tests/workflow/basic_examples/record_go.py [EXAMPLE ...]

The Go engine's python deployer runs only ``module@git+URL`` sources, from
``<workdir>/connector_<python semver>_1/<module>_latest/venv`` (with ``modulePullPolicy:
IfNotPresent`` it never pulls when that exists). So in a temporary directory this makes one
such venv per replica plugin (``tests/plugins/plugin_example.py`` …): no pip, a ``.pth`` file
naming the bench venv's site-packages and ``tests/plugins``; copies the example there with each
``src: ../../../plugins/plugin_X.py`` replaced by ``src: plugin-X@git+https://example.invalid/…``
(the deployer runs ``python -m plugin_X``) and runs the engine with the example's flags and a
config for that python deployer instead of the example's own (config-file's names a podman
deployer for images, which the ported file no longer uses). ``expected_go.yaml`` records the
exit code, output id and the output data made ``comparable`` (the metadata facts as their
shape). ``DIFFERENCES`` holds the examples where we differ on purpose
(docs/workflow-differences.md): the exit code we give instead, and why. The ``VARIANTS``
(an example with another input: its failure paths) go into ``variants_expected_go.yaml``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(HERE.parent))

from basic_examples_support import (  # noqa: E402
    EXAMPLES,
    PLUGIN_SOURCES,
    VARIANTS,
    Example,
    comparable,
)
from plugin_vs_go import DEFAULT_WORK, Setup  # noqa: E402

_INPUT_EXIT = (1, "invalid input data is a usage error (exit 1); Go exits 3")
#: example or variant -> (our exit code, why we differ from the Go engine).
DIFFERENCES: dict[str, tuple[int, str]] = {
    "input-missing-field": _INPUT_EXIT,
    "fullname-without-last-name": _INPUT_EXIT,
    "unknown-name-type": _INPUT_EXIT,
}


def _plugin_venvs(setup: Setup, workdir: Path) -> None:
    """Make the venv the Go python deployer runs for each replica plugin, without pip."""
    base = setup.plugin_venv
    site_packages = next(base.glob("lib/python*/site-packages"))
    connector = workdir / f"connector_{setup.python_semver.replace('.', '-')}_1"
    for module in PLUGIN_SOURCES:
        venv = connector / f"{module}_latest" / "venv"
        subprocess.run(
            [str(base / "bin" / "python"), "-m", "venv", "--without-pip", str(venv)], check=True
        )
        own = next(venv.glob("lib/python*/site-packages"))
        (own / "replica.pth").write_text(f"{site_packages}\n{ROOT / 'tests' / 'plugins'}\n")


def record(
    setup: Setup, example: Example, workdir: Path, *, name: str, input_text: str | None = None
) -> dict[str, object]:
    """Run the Go engine on ``example`` (with ``input_text`` as input.yaml); return what it did."""
    with tempfile.TemporaryDirectory(prefix="go-basic-example-") as temporary:
        context = Path(temporary)
        for path in (HERE / example.name).iterdir():
            text = path.read_text()
            if path.suffix == ".yaml" and not path.name.startswith("expected"):
                for module, source in PLUGIN_SOURCES.items():
                    go_source = f"{module}@git+https://example.invalid/{module}"
                    text = text.replace(f"src: {source}", f"src: {go_source}")
            (context / path.name).write_text(text)
        if input_text is not None:
            (context / "input.yaml").write_text(input_text)
        (context / "go-config.yaml").write_text(
            "log: {level: error}\n"
            "deployers:\n  python:\n    deployer_name: python\n"
            "    modulePullPolicy: IfNotPresent\n"
            f"    workdir: {workdir}\n"
            f"    pythonPath: {setup.plugin_venv / 'bin' / 'python'}\n"
            f"    pythonSemver: {setup.python_semver}\n"
        )
        args = [arg if arg != "config.yaml" else "go-config.yaml" for arg in example.args]
        if "-config" not in args:
            args += ["-config", "go-config.yaml"]
        runs = [
            subprocess.run(
                [str(setup.go_binary), "-context", ".", *args, *extra],
                cwd=context,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                env={**os.environ, **example.env},
            )
            for extra in ((), ("-get-namespaces",))
        ]
    done, namespaces = runs
    recorded: dict[str, object] = {"go_exit_code": done.returncode}
    if done.returncode in (0, 2) and done.stdout.startswith("output_data:"):
        document = yaml.safe_load(done.stdout)
        recorded["output_id"] = document["output_id"]
        recorded["output_data"] = comparable(document["output_data"])
        if recorded["output_data"] == document["output_data"]:  # nothing machine-specific
            recorded["go_stdout"] = done.stdout
    else:
        recorded["go_stderr_tail"] = done.stderr.strip().splitlines()[-3:]
    recorded["go_namespaces_exit_code"] = namespaces.returncode
    recorded["go_namespaces"] = namespaces.stdout
    ours = DIFFERENCES.get(name)
    recorded["exit_code"] = done.returncode if ours is None else ours[0]
    recorded["difference"] = None if ours is None else ours[1]
    return recorded


def main(names: list[str]) -> int:
    """Record every example (or the named ones)."""
    setup = Setup(
        work=DEFAULT_WORK, go_venv=DEFAULT_WORK / "go-venv", ours_cli=None, ours_python=None
    )
    examples = [example for example in EXAMPLES if not names or example.name in names]
    workdir = Path(tempfile.mkdtemp(prefix="go-basic-examples-"))
    try:
        _plugin_venvs(setup, workdir)
        for example in examples:
            recorded = record(setup, example, workdir, name=example.name)
            (HERE / example.name / "expected_go.yaml").write_text(
                "# Recorded from the Go engine 0.21.0 by ../record_go.py; do not edit by hand.\n"
                + yaml.safe_dump(recorded, sort_keys=False, allow_unicode=True, width=100)
            )
            print(f"{example.name}: exit {recorded['go_exit_code']}", file=sys.stderr)
        variants: dict[str, object] = {}
        for variant in VARIANTS:
            if names and variant.name not in names:
                continue
            example = Example(name=variant.example, args=("-input", "input.yaml"))
            variants[variant.name] = recorded = record(
                setup, example, workdir, name=variant.name, input_text=variant.input_text
            )
            del recorded["go_namespaces"], recorded["go_namespaces_exit_code"]
            print(f"{variant.name}: exit {recorded['go_exit_code']}", file=sys.stderr)
        if variants:
            (HERE / "variants_expected_go.yaml").write_text(
                "# Recorded from the Go engine 0.21.0 by record_go.py; do not edit by hand.\n"
                + yaml.safe_dump(variants, sort_keys=False, allow_unicode=True, width=100)
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
