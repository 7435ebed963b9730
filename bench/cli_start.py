"""CLI start-up benchmark: how long quick commands take to start, against Python itself and a
bare typer app's help, measured in the same run.

    .venv/bin/python bench/cli_start.py [--runs 7] [--status-out DIR]

``--status-out`` adds ``status`` of every story under DIR (a folder a run has checkpointed, e.g.
one made with ``video-agent run STORY.json --out DIR``).

Each case is a fresh ``python`` process (rounds interleave the cases, so load drifts hit all
alike); prints the median wall and CPU (user + system of the child) seconds and each case's
ratio to ``python -c pass`` and to the baseline: a bare typer app printing its help (typer and
rich imported and its rich help formatter run). The goal for ``--help`` is within 2x of that.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TYPER_APP = """
import typer
app = typer.Typer(no_args_is_help=True, add_completion=False)
@app.command()
def first(path: str, count: int = 1) -> None:
    "One command."
@app.command()
def second(flag: bool = False) -> None:
    "Another command."
app()
"""
"""A bare two-command typer app: what typer and rich cost to print a help page."""

CASES: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import typer + rich": ["-c", "import typer, rich.console, rich.table, rich.progress"],
    "typer app --help (baseline)": ["-c", TYPER_APP, "--help"],
    "video-agent --help": ["-m", "video_agent", "--help"],
    "video-agent run --help": ["-m", "video_agent", "run", "--help"],
    "video-agent models": ["-m", "video_agent", "models"],
    "video-agent status (no stories)": ["-m", "video_agent", "status", "--out", "/nonexistent"],
    "video-agent explain --help": ["-m", "video_agent", "explain", "--help"],
    "video-agent assess --help": ["-m", "video_agent", "assess", "--help"],
    "video-agent render --help": ["-m", "video_agent", "render", "--help"],
}


def once(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--status-out", type=Path, default=None,
                        help="Also time `status` on this output folder (stories checkpointed).")
    args = parser.parse_args()
    cases = dict(CASES)
    if args.status_out is not None:
        cases["video-agent status (checkpointed stories)"] = [
            "-m", "video_agent", "status", "--out", str(args.status_out.resolve())]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}"
                                       f"{os.environ.get('PYTHONPATH', '')}", "COLUMNS": "100"}
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for argv in cases.values():  # warm the file cache once
        once(argv, env)
    for _ in range(args.runs):
        for name, argv in cases.items():
            wall, cpu = once(argv, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    python = statistics.median(cpus["python -c pass"])
    base = statistics.median(cpus["typer app --help (baseline)"])
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"{args.runs} runs, medians")
    print("| case | wall s | CPU s | x python | x typer app |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in cases:
        cpu = statistics.median(cpus[name])
        print(f"| {name} | {statistics.median(walls[name]):.3f} | {cpu:.3f} | "
              f"{cpu / python:.1f} | {cpu / base:.2f} |")


if __name__ == "__main__":
    main()
