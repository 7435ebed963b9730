"""Run-time settings of the Video Agent: a LangGraph context object, never part of state.

Nodes read it as ``runtime.context``; LangGraph Studio shows each field's description.
A host (the LangGraph server) may store the context with the run, so it holds no secret: the fal
key stays in the environment and the context names the variable (``fal_key_env``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from video_agent.inputs import DEFAULT_MAX_SCENES
from video_agent.values import Resolution

if TYPE_CHECKING:
    from video_agent.services import RunServices

ALLOW_PRIVATE_URLS_ENV = "VIDEO_AGENT_ALLOW_PRIVATE_URLS"


def env_flag(name: str) -> bool:
    """A yes/no environment variable: 1/true/yes or 0/false/no/unset; anything else is an
    error, so a typo does not silently mean "no"."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("", "0", "false", "no"):
        return False
    raise ValueError(f"{name}={value!r}: expected 1 or 0")


@dataclass(kw_only=True)
class VideoAgentContext:
    """Settings for one run of the Video Agent."""

    output_dir: str = field(
        default="generated_video",
        metadata={"description": "Root folder of <story>/scene_<n>/video.mp4, temp/ and .state/."},
    )
    primary: str = field(
        default="local",
        metadata={"description": "Primary provider: 'local', 'local:draft' or 'fal:<endpoint>'."},
    )
    fallback: str = field(
        default="local:draft",
        metadata={"description": "Fallback provider, same forms as primary; '' for none."},
    )
    resolution: str = field(
        default="1024x576",
        metadata={"description": "Output size of stored clips (16:9, at least 1024x576)."},
    )
    story_dir: str | None = field(
        default=None,
        metadata={"description": "Folder that relative image paths are resolved against."},
    )
    image_roots: list[str] = field(
        default_factory=list,
        metadata={"description": "Folders besides story_dir that local stills (absolute paths, "
                                 "file:// URLs) may resolve into; anything else is refused."},
    )
    allow_private_urls: bool = field(
        default_factory=lambda: env_flag(ALLOW_PRIVATE_URLS_ENV),
        metadata={"description": "Fetch stills from loopback, private and link-local addresses "
                                 "(development only; default from "
                                 "VIDEO_AGENT_ALLOW_PRIVATE_URLS=1)."},
    )
    image_max_bytes: int = field(
        default=25 * 1024 * 1024,
        metadata={"description": "Largest still accepted, in bytes."},
    )
    image_timeout_s: float = field(
        default=30.0, metadata={"description": "Timeout for fetching an http(s) still."}
    )
    provider_timeout_s: float = field(
        default=600.0, metadata={"description": "Longest wait for one provider call, seconds."}
    )
    budget_usd: float | None = field(
        default=None,
        metadata={"description": "Refuse paid submissions past this estimated story cost."},
    )
    force_scenes: list[str] = field(
        default_factory=list,
        metadata={"description": "Scene numbers to generate again even if they have a video."},
    )
    only_scenes: list[str] = field(
        default_factory=list,
        metadata={"description": "Limit the run to these scene numbers (empty: all scenes)."},
    )
    max_scenes: int = field(
        default=DEFAULT_MAX_SCENES,
        metadata={"description": "Most scenes a story may have; a longer one is refused "
                                 "before anything runs."},
    )
    public_base_url: str | None = field(
        default=None,
        metadata={"description": "Base URL for video_url; file:// URIs when unset."},
    )
    fal_key_env: str = field(
        default="FAL_KEY",
        metadata={"description": "Name of the environment variable holding the fal.ai key "
                                 "(the name, never the key itself)."},
    )
    state_db: str | None = field(
        default=None,
        repr=False,
        metadata={"description": "PostgreSQL URL holding the fal request ledger and the upload "
                                 "and still caches for many workers; SQLite and folders under "
                                 ".state when unset. The CLI sets it to --checkpoints."},
    )
    storage: str | None = field(
        default=None,
        metadata={"description": "Where clips go: the output folder when unset, or "
                                 "s3://bucket/prefix (endpoint and credentials from the AWS "
                                 "environment variables)."},
    )
    chat_model: Any = field(
        default=None,
        repr=False,
        metadata={"description": "Optional LangChain chat model that plans motion."},
    )
    quality: Any = field(
        default=None,
        metadata={"description": "video_agent.quality.QualitySettings; defaults when unset."},
    )
    scene_graph_url: str | None = field(
        default=None,
        metadata={"description": "LangGraph server whose video_agent graph runs each scene of "
                                 "the story graph (one thread per scene); in process when unset."},
    )
    scene_assistant_id: str = field(
        default="video_agent",
        metadata={"description": "Assistant (or graph id) run per scene on scene_graph_url."},
    )

    def __post_init__(self) -> None:
        # Not fields: never part of the context's schema, never sent or stored with a run.
        self._services: RunServices | None = None
        self._services_lock = threading.Lock()

    @property
    def services(self) -> RunServices:
        """The adapters this run's nodes share, built on first use, once per context (a runner,
        the serve app and the LangGraph server build one context per run)."""
        with self._services_lock:
            if self._services is None:
                from video_agent.services import RunServices  # adapters import this module

                self._services = RunServices(self)
            return self._services

    @property
    def out(self) -> Path:
        return Path(self.output_dir).expanduser().resolve()

    @property
    def state_dir(self) -> Path:
        """Durable run state (checkpoints, fal request ledger, caches)."""
        return self.out / ".state"

    @property
    def size(self) -> tuple[int, int]:
        """``resolution`` as (width, height); it must be 16:9, at least 1024x576, even sizes."""
        size = Resolution.parse(self.resolution).checked_for_spec()
        return size.width, size.height
