"""Throughput benchmark: N scenes from the fal provider through the quality gate.

The fake fal server runs each request for L seconds and at most C at once (an account limit)
and answers with the endpoint's output shape from the registry (size, fps, audio track), or
with a clip already on the spec (``on spec`` rows). Every scene has a file of its own with the
same pixels, prepared while the provider works (``prepare_still`` with its own face search, as
the graph does for stills of their own); its clip is downloaded and then judged, repaired when
needed, exactly as the ``assess_quality`` node does.

    .venv/bin/python bench/fal.py [--scenes 50 --limit 4 --latency 2] [--cases real,on_spec]

The fake server runs in a child process. Printed per case: makespan / ceil(N/C)*L, CPU seconds
per scene of this process (the whole run divided by N: submits, polls, downloads and the gate), the
gate's own CPU per clip (one downloaded clip judged cold 3 times in a row, median: download
excluded), peak RSS of the process, and submissions (must be N).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakefal_fixtures import make_request, make_still
from video_agent import cpu_pool
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY, get_endpoint
from video_agent.adapters.providers.fal.provider import FalProvider
from video_agent.models import GenerationRequest, QualityReport
from video_agent.quality import QualitySettings, assess_clip, composition, prepare_still
from video_agent_dev.fakefal import FakeFalServer
from video_agent_dev.fakefal.testing import fal_client_pointed_at

try:  # the CPU pool the assess_quality node runs the gate in
    from video_agent.cpu_pool import run_cpu
except ImportError:  # older code: a thread of the default executor per clip
    run_cpu = asyncio.to_thread  # type: ignore[assignment]

ON_SPEC = {"width": 1024, "height": 576, "fps": 24, "audio": False}


def _serve(conn: Connection, cert_dir: str, scenario: dict[str, object]) -> None:
    """The fake fal server in a child process, so this process measures only its own work."""
    with FakeFalServer(cert_dir=Path(cert_dir)) as server:
        server.call(lambda: server.fake.set_scenario("*", **scenario))
        conn.send((server.port, str(server.bundle_file)))
        conn.recv()
        conn.send(sum(server.fake.submits.values()))
        conn.recv()


@contextlib.contextmanager
def fake_in_child(cert_dir: Path, **scenario: object
                  ) -> Iterator[tuple[SimpleNamespace, Callable[[], int]]]:
    """``(server, counts)``: what ``fal_client_pointed_at`` needs, and the submission count."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(theirs, str(cert_dir), scenario), daemon=True)
    child.start()
    try:
        port, bundle = ours.recv()
        server = SimpleNamespace(url=f"https://127.0.0.1:{port}", bundle_file=Path(bundle))

        def counts() -> int:
            ours.send("counts")
            return int(ours.recv())

        yield server, counts
    finally:
        with contextlib.suppress(OSError, BrokenPipeError):
            ours.send("stop")
        child.join(10)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def gate(request: GenerationRequest, clip: str, work: Path) -> QualityReport:
    return await run_cpu(assess_clip, clip, request.image.path, request.params,
                         settings=QualitySettings(), work_dir=work, target_size=(1024, 576))


def prepare_cold(path: str, names: list[str]) -> None:
    """``prepare_still`` paying its own face search, as a scene with a still of its own does
    (the memo would otherwise find the shared pixels' faces once for every scene)."""
    composition.forget()
    prepare_still(path, names)


async def one_run(work: Path, endpoint_id: str, scenes: int, limit: int,
                  story: str) -> tuple[float, list[QualityReport], list[str]]:
    endpoint = get_endpoint(endpoint_id).model_copy(update={"max_concurrency": limit})
    provider = FalProvider(endpoint, state_dir=work / ".state", timeout_s=600, budget_usd=None)
    shared = make_still(work / "still.png")
    clips: list[str] = []

    async def scene(i: int) -> QualityReport:
        # A file of its own with the shared pixels: the fake server renders them once, and
        # the gate takes the still prepared for its own file.
        copy = work / "stills" / f"{i}.png"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared.path, copy)
        still = shared.model_copy(update={"path": str(copy)})
        request = make_request(still, work / "temp" / str(i), story_id=story, scene=str(i + 1))
        # as ``generation.attempt`` does: the still is prepared while the provider works
        cpu_pool.pool().submit(prepare_cold, still.path, request.params.motion.focus_points)
        result = await provider.generate(request, lambda f, m: None)
        clips.append(result.path)
        return await gate(request, result.path, work / "temp" / str(i))

    started = time.perf_counter()
    reports = await asyncio.gather(*(scene(i) for i in range(scenes)))
    return time.perf_counter() - started, list(reports), clips


def gate_cpu(clip: str, work: Path, runs: int = 3) -> float:
    """CPU seconds of judging (and repairing) one downloaded clip, median of ``runs``."""
    still = make_still(work / "still.png")
    request = make_request(still, work / "serial", scene="1")
    spent = []
    for _ in range(runs):
        composition.forget()  # cold: the faces searched in the gate
        before = cpu_s()
        asyncio.run(gate(request, clip, work / "serial"))
        spent.append(cpu_s() - before)
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=50)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--endpoint", default=DEFAULT_PRIMARY)
    parser.add_argument("--cases", default="real,on_spec")
    parser.add_argument("--shape", default=None,
                        help="WxH@FPS[+audio]: the provider's shape instead of the registry's "
                             "(to measure code whose fake server lacks real shapes)")
    opts = parser.parse_args()

    shape: dict[str, object] = {}
    if opts.shape:
        size, _, rest = opts.shape.partition("@")
        fps, _, audio = rest.partition("+")
        w, _, h = size.partition("x")
        shape = {"width": int(w), "height": int(h), "fps": int(fps), "audio": audio == "audio"}
    ideal = math.ceil(opts.scenes / opts.limit) * opts.latency
    rows = []
    for case in opts.cases.split(","):
        overrides = ON_SPEC if case == "on_spec" else shape
        with tempfile.TemporaryDirectory() as tmp, fake_in_child(
                Path(tmp) / "certs", latency_s=opts.latency, concurrency=opts.limit,
                **overrides) as (server, counts), \
                fal_client_pointed_at(server, fal_home=f"{tmp}/fal_home"):  # type: ignore[arg-type]
            cpu_before = cpu_s()
            span, reports, clips = asyncio.run(one_run(Path(tmp), opts.endpoint, opts.scenes,
                                                       opts.limit, case))
            cpu_run = cpu_s() - cpu_before
            submits = counts()
            verdicts = statistics.multimode(r.verdict for r in reports)
            per_clip = gate_cpu(clips[0], Path(tmp))
            source = reports[0].original_probe or reports[0].probe
            rows.append((case, f"{source.width}x{source.height}@{source.fps:g}"
                               f"{'+audio' if source.audio_streams else ''}" if source else "?",
                         span / ideal, span, cpu_run / opts.scenes, per_clip, rss_mb(), submits,
                         "/".join(verdicts)))
    print(f"N={opts.scenes} C={opts.limit} L={opts.latency:g} s, endpoint {opts.endpoint}, "
          f"ideal ceil(N/C)*L = {ideal:g} s")
    print("| case | provider clip | makespan / ideal | makespan s | CPU s / scene | "
          "gate CPU s / clip | peak RSS MB | submissions | verdict |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for case, src, ratio, span, cpu, per_clip, rss, submits, verdict in rows:
        print(f"| {case} | {src} | {ratio:.2f} | {span:.1f} | {cpu:.2f} | {per_clip:.2f} | "
              f"{rss:.0f} | {submits} | {verdict} |")


if __name__ == "__main__":
    main()
