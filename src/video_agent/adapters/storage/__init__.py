"""Where finished clips and their metadata live."""

from video_agent.adapters.storage.local import LocalStorage, check_story_id

__all__ = ["LocalStorage", "check_story_id"]
