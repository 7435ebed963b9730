"""Orchestration benchmark: N scenes through the fal provider against the fake fal server.

The fake runs each request for L seconds and at most C at once (an account limit); the provider
is limited to C requests in flight per endpoint. The makespan is compared with the ideal
ceil(N/C) * L and with ceil(N/C) * (one request's end-to-end time, measured in the same run).

    .venv/bin/python bench/fal.py --scenes 12 --limit 4 --latency 2 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakefal_fixtures import make_request, make_still
from video_agent.adapters.providers.fal.endpoints import get_endpoint
from video_agent.adapters.providers.fal.provider import FalProvider
from video_agent_dev.fakefal import FakeFalServer
from video_agent_dev.fakefal.testing import fal_client_pointed_at

ENDPOINT = "fal-ai/ltx-video/image-to-video"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def one_run(server: FakeFalServer, work: Path, scenes: int, limit: int,
                  story: str) -> float:
    endpoint = get_endpoint(ENDPOINT).model_copy(update={"max_concurrency": limit})
    provider = FalProvider(endpoint, state_dir=work / ".state", timeout_s=600,
                           budget_usd=None)
    still = make_still(work / "still.png")
    started = time.perf_counter()
    await asyncio.gather(*(
        provider.generate(make_request(still, work / "temp", story_id=story, scene=str(i + 1)),
                          lambda f, m: None) for i in range(scenes)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=12)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, FakeFalServer() as server, \
            fal_client_pointed_at(server, fal_home=f"{tmp}/fal_home"):
        server.call(lambda: server.fake.set_scenario(
            "*", latency_s=opts.latency, concurrency=opts.limit, width=320, height=180))
        singles, spans = [], []
        rss_before = rss_mb()
        for run in range(opts.runs):
            singles.append(asyncio.run(one_run(server, Path(tmp) / f"single{run}", 1,
                                               opts.limit, f"single{run}")))
            spans.append(asyncio.run(one_run(server, Path(tmp) / f"run{run}", opts.scenes,
                                             opts.limit, f"run{run}")))
        submits = sum(server.fake.submits.values())
    waves = math.ceil(opts.scenes / opts.limit)
    ideal = waves * opts.latency
    single = statistics.median(singles)
    span = statistics.median(spans)
    rows = [
        ("scenes N / limit C / latency L", f"{opts.scenes} / {opts.limit} / {opts.latency:g} s"),
        ("runs (median)", str(opts.runs)),
        ("one request end to end", f"{single:.2f} s"),
        ("makespan", f"{span:.2f} s  (runs: {', '.join(f'{s:.2f}' for s in spans)})"),
        ("ideal ceil(N/C)*L", f"{ideal:.2f} s"),
        ("makespan / ideal", f"{span / ideal:.3f}"),
        ("makespan / (ceil(N/C) * one request)", f"{span / (waves * single):.3f}"),
        ("submits (expected)", f"{submits} ({opts.runs * (opts.scenes + 1)})"),
        ("peak RSS (process incl. fake server)", f"{rss_mb():.0f} MB "
                                                 f"(+{rss_mb() - rss_before:.0f} MB in runs)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
