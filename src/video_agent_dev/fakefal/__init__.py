"""A fake fal.ai server for tests and offline development (``video-agent fake-fal``).

It speaks fal's queue protocol and storage uploads over HTTPS on 127.0.0.1 with a throwaway
certificate authority, returns real MP4s made from the submitted still, and injects faults on
demand (see ``Scenario``). ``server.fake.submits`` counts submissions per endpoint.
"""

from video_agent_dev.fakefal.app import FakeFal, build_app
from video_agent_dev.fakefal.scenario import Scenario, parse_assignments
from video_agent_dev.fakefal.server import DUMMY_KEY, FakeFalServer

__all__ = ["DUMMY_KEY", "FakeFal", "FakeFalServer", "Scenario", "build_app",
           "parse_assignments"]
