"""Prometheus metrics of the Video Agent, updated by the nodes and served at ``/metrics``.

Metrics live in the process-wide default registry, so any prometheus exporter (the project's
server, or the host application's) exposes them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric

LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200)

provider_seconds = Histogram(
    "video_agent_provider_call_seconds", "Wall time of one provider call.",
    ["provider", "model", "slot"], buckets=LATENCY_BUCKETS)
provider_queue_seconds = Histogram(
    "video_agent_provider_queue_seconds", "Time a request waited in the provider's queue.",
    ["provider", "model"], buckets=LATENCY_BUCKETS)
provider_outcomes = Counter(
    "video_agent_provider_outcomes_total",
    "Provider attempts by outcome (ok, error, quality_fail).",
    ["provider", "model", "slot", "outcome"])
scene_outcomes = Counter(
    "video_agent_scene_outcomes_total",
    "Finished scenes: success (primary), fallback (stored from the fallback), failed.",
    ["outcome"])
quality_metric = Histogram(
    "video_agent_quality_metric", "Quality metrics of assessed clips.", ["metric"],
    buckets=(0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1, 2, 5, 10, 25, 50))
stage_cpu_seconds = Counter(
    "video_agent_stage_cpu_seconds_total", "Process CPU seconds spent per stage.", ["stage"])
stage_seconds = Histogram(
    "video_agent_stage_seconds", "Wall time of each node.", ["stage"],
    buckets=LATENCY_BUCKETS)
bytes_stored = Counter("video_agent_bytes_stored_total", "Bytes of video stored.")
cost_usd = Counter("video_agent_cost_usd_total", "Estimated provider cost, USD.",
                   ["provider", "model"])


class GpuCollector:
    """GPU use read from NVML at scrape time (``nvidia-ml-py``); ``video_agent_gpu_available``
    is 0 when the library or a GPU is absent, and no per-GPU series are reported then."""

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        available = GaugeMetricFamily(
            "video_agent_gpu_available", "1 when a local GPU is visible through NVML, else 0.")
        util = GaugeMetricFamily("video_agent_gpu_utilization_ratio",
                                 "GPU busy fraction over the last sample period.", labels=["gpu"])
        memory = GaugeMetricFamily("video_agent_gpu_memory_used_bytes", "GPU memory in use.",
                                   labels=["gpu"])
        readings = _nvml_readings()
        available.add_metric([], 1.0 if readings else 0.0)
        for index, (busy, used) in enumerate(readings):
            util.add_metric([str(index)], busy)
            memory.add_metric([str(index)], used)
        yield available
        if readings:
            yield util
            yield memory


def _nvml_readings() -> list[tuple[float, float]]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver or no device
        return []
    try:
        readings = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            rates = pynvml.nvmlDeviceGetUtilizationRates(handle)
            info = pynvml.nvmlDeviceGetMemoryInfo(handle)
            readings.append((rates.gpu / 100.0, float(info.used)))
        return readings
    except Exception:
        return []
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


_gpu_registered = False


def register_gpu_collector() -> None:
    """Add the GPU gauges to the default registry (once per process)."""
    global _gpu_registered
    if not _gpu_registered:
        from prometheus_client import REGISTRY

        REGISTRY.register(GpuCollector())
        _gpu_registered = True
