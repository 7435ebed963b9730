"""Workers benchmark: one story of N scenes on 1, 2 and 4 Aegra instances (a self-hosted
LangGraph server on PostgreSQL + Redis), each scene a run of the ``video_agent`` graph on its own
thread, against the fake fal server with latency L and an account limit of C requests at once.

Reports per instance count the median makespan against the ideal ceil(N/C) * L, the throughput
(scenes per minute) and its scaling against one instance, and the CPU seconds the server
processes spent per scene (the plugin's work plus the server's own; the fake server runs in this
process and is not counted). Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.

    .venv/bin/python bench/workers.py --scenes 16 --limit 8 --latency 5 --runs 3 --workers 1,2,4
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from langgraph_sdk import get_client

from aegra_fixtures import Cluster, aegra_cluster
from conftest import still
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent_dev.fakefal import FakeFalServer

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / TICKS


def cluster_cpu(cluster: Cluster) -> float:
    return sum(cpu_seconds(i.process.pid) for i in cluster.instances if i.process)


async def one_story(cluster: Cluster, out: Path, images: list[Path], story_id: str) -> float:
    url = cluster.instances[0].url
    scenes: dict[str, Any] = {
        str(n): {"scene_number": n, "scene_content": f"Scene {n}: a slow pan at dusk.",
                 "image_path": str(image), "layer1_analysis": "Slow pan, 4 seconds."}
        for n, image in enumerate(images, start=1)}
    context: dict[str, Any] = {"output_dir": str(out), "primary": f"fal:{DEFAULT_PRIMARY}",
                               "fallback": "", "scene_graph_url": url,
                               "image_roots": [str(images[0].parent)]}
    client = get_client(url=url)
    try:
        thread = await client.threads.create()
        started = time.perf_counter()
        result: Any = await client.runs.wait(
            thread["thread_id"], "story",
            input={"story_id": story_id, "scenes": scenes, "narration": {}},
            context=context)
        elapsed = time.perf_counter() - started
    finally:
        await client.aclose()
    if len(result.get("videos") or {}) != len(images):
        raise SystemExit(f"{story_id}: not every scene finished: {result.get('errors')}")
    return elapsed


def measure(workers: int, opts: argparse.Namespace, fake: FakeFalServer,
            tmp: Path, images: list[Path]) -> tuple[list[float], float]:
    work = tmp / f"w{workers}"
    env = {**fake.env(), "FAL_HOME_DIR": str(work / "fal_home")}
    spans, cpu = [], []
    with aegra_cluster(work, env) as cluster:
        for n in range(workers):
            cluster.start(f"i{n}")
        asyncio.run(one_story(cluster, work / "out", images[:1], "warmup"))
        for run in range(opts.runs):
            before = cluster_cpu(cluster)
            spans.append(asyncio.run(one_story(cluster, work / "out", images, f"run{run}")))
            cpu.append((cluster_cpu(cluster) - before) / opts.scenes)
    return spans, statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=16)
    parser.add_argument("--limit", type=int, default=8, help="account concurrency limit C")
    parser.add_argument("--latency", type=float, default=5.0, help="seconds per request L")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4", help="instance counts to compare")
    opts = parser.parse_args()
    counts = [int(w) for w in opts.workers.split(",")]

    with tempfile.TemporaryDirectory() as name, FakeFalServer() as fake:
        tmp = Path(name)
        fake.call(lambda: fake.fake.set_scenario("*", latency_s=opts.latency,
                                                 concurrency=opts.limit))
        images = [still(tmp / f"still{n}.jpg", seed=n) for n in range(opts.scenes)]
        results = {w: measure(w, opts, fake, tmp, images) for w in counts}
        submits = sum(fake.call(lambda: dict(fake.fake.submits)).values())

    ideal = math.ceil(opts.scenes / opts.limit) * opts.latency
    base = statistics.median(results[counts[0]][0])
    print(f"scenes N / limit C / latency L: {opts.scenes} / {opts.limit} / {opts.latency:g} s; "
          f"ideal ceil(N/C)*L = {ideal:.1f} s; runs: {opts.runs} (median); "
          f"fal submits {submits} (expected {len(counts) * (opts.runs * opts.scenes + 1)})")
    print(f"{'instances':>9}  {'makespan s':>10}  {'/ ideal':>7}  {'scenes/min':>10}  "
          f"{'scaling':>7}  {'server CPU s/scene':>18}  runs")
    for w in counts:
        spans, cpu = results[w]
        span = statistics.median(spans)
        print(f"{w:>9}  {span:>10.1f}  {span / ideal:>7.2f}  {60 * opts.scenes / span:>10.1f}  "
              f"{base / span:>7.2f}  {cpu:>18.2f}  {', '.join(f'{s:.1f}' for s in spans)}")


if __name__ == "__main__":
    main()
