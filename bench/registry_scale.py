"""How ``arcaflow-steps list`` scales with the number of installed provider distributions.

For N in (100, 1000) it installs N generated provider distributions (a ``.dist-info`` with an
``arcaflow.step_providers`` entry point named after the kind, and a module implementing
``arcaflow_steps_providers``) into a fresh venv that sees this interpreter's packages, then
times three processes in that venv:

* ``list``   — ``arcaflow-steps list --format json`` (reads metadata only);
* ``bare``   — a bare ``importlib.metadata`` scan of the group printing kind, distribution and
  version (the floor: what any entry-point listing must do);
* ``pluggy`` — plain pluggy: ``PluginManager.load_setuptools_entrypoints`` (imports every
  module) and calling the hook, the way a pluggy-based registry without kind-named entry points
  must list kinds.

Targets: ``list`` at least 2x faster than ``pluggy`` at N=100, and within 1.5x of ``bare``.

Usage: ``python bench/registry_scale.py [--sizes 100 1000] [--repeat 7]``. Prints a Markdown
table of median wall and CPU (user + system) times; on a busy machine the CPU times are the
stable ones.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

BARE = """
import importlib.metadata as m, json, sys
rows = [
    {"kind": ep.name, "distribution": ep.dist.metadata["Name"], "version": ep.dist.version}
    for ep in m.entry_points(group="arcaflow.step_providers")
]
json.dump(sorted(rows, key=lambda row: row["kind"]), sys.stdout)
"""

PLUGGY = """
import json, sys
import pluggy
from arcaflow_steps import ProviderContext, hookspecs
pm = pluggy.PluginManager("arcaflow_steps")
pm.add_hookspecs(hookspecs)
pm.load_setuptools_entrypoints("arcaflow.step_providers")
context = ProviderContext(lambda: [])
kinds = [p.kind for found in pm.hook.arcaflow_steps_providers(context=context) for p in found]
json.dump(sorted(kinds), sys.stdout)
"""

MODULE = '''"""Generated provider {kind}."""

from arcaflow_steps import Lifecycle, LifecycleStage, hookimpl


class Provider:
    kind = "{kind}"
    provider_keyword = "{kind}"
    run_keyword = "step"

    def lifecycle(self):
        return Lifecycle(initial_stage="run", stages=(LifecycleStage(id="run"),))

    def provider_schema(self):
        return {{}}

    def load_schema(self, provider_input):
        raise NotImplementedError


@hookimpl
def arcaflow_steps_providers(context):
    return [Provider()]
'''


def make_venv(root: Path) -> Path:
    """Create a venv (no pip) that sees this interpreter's site-packages; return its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    outer = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    Path(purelib, "_outer.pth").write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in outer)
    )
    return python


def install_generated(python: Path, count: int) -> None:
    """Write ``count`` installed distributions (dist-info + module) into the venv."""
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    for index in range(count):
        kind = f"bench{index:04d}"
        module = f"bench_provider_{index:04d}"
        dist_info = site / f"bench_provider_{index:04d}-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: bench-provider-{index:04d}\nVersion: 1.0\n"
        )
        (dist_info / "entry_points.txt").write_text(
            f"[arcaflow.step_providers]\n{kind} = {module}\n"
        )
        (dist_info / "INSTALLER").write_text("bench\n")
        (dist_info / "RECORD").write_text("")
        (site / f"{module}.py").write_text(MODULE.format(kind=kind))
    # Compile once, as pip does at install, so the timings do not include writing .pyc files.
    subprocess.run(
        [str(python), "-m", "compileall", "-q", str(site)], check=True, capture_output=True
    )


def time_process(argv: list[str], repeat: int) -> tuple[float, float]:
    """Return the median wall time and median CPU time (user + system) of ``argv``."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        result = subprocess.run(argv, check=False, capture_output=True)
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode != 0:
            raise SystemExit(f"{argv[:3]} failed:\n{result.stderr.decode()}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(
        "| N | list wall / CPU (s) | bare scan wall / CPU (s) | pluggy wall / CPU (s) "
        "| list / bare (CPU) | pluggy / list (CPU) |"
    )
    print("|---|---|---|---|---|---|")
    for count in args.sizes:
        with tempfile.TemporaryDirectory(prefix="registry-scale-") as tmp:
            python = make_venv(Path(tmp) / "venv")
            install_generated(python, count)
            cli = [str(python), "-m", "arcaflow_steps.cli", "list", "--format", "json"]
            time_process(cli, 1)  # warm the page cache
            listed = time_process(cli, args.repeat)
            bare = time_process([str(python), "-c", BARE], args.repeat)
            plain = time_process([str(python), "-c", PLUGGY], args.repeat)
            print(
                f"| {count} | {listed[0]:.3f} / {listed[1]:.3f} | {bare[0]:.3f} / {bare[1]:.3f} "
                f"| {plain[0]:.3f} / {plain[1]:.3f} | {listed[1] / bare[1]:.2f}x "
                f"| {plain[1] / listed[1]:.2f}x |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
