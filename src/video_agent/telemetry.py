"""Prometheus metrics of the Video Agent, updated by the nodes and served at ``/metrics``.

Metrics live in the process-wide default registry, so any prometheus exporter (the project's
server, or the host application's) exposes them.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
