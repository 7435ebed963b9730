"""The control panel in Debian's chromium: every scene card of a started story shows the scene's
source still and text while the scene waits or runs, before any clip of it is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import browser_fixtures
from serve_fixtures import FAST, serving

pytestmark = [browser_fixtures.needs_chromium, pytest.mark.slow]
images = browser_fixtures.images
browser = browser_fixtures.browser
page = browser_fixtures.page


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, images: Path) -> Iterator[str]:
    """One scene at a time, so the later scenes of a story wait queued for a while."""
    with serving(tmp_path_factory.mktemp("out"), images_root=images, max_concurrency=1,
                 **FAST) as url:
        yield url


def test_waiting_scenes_show_their_still_and_text(base_url: str, page: Page, images: Path,
                                                  tmp_path: Path) -> None:
    stills = sorted(p.name for p in images.glob("*.jpg"))
    story = {"story_id": "stills_early", "scenes": [
        {"scene_number": n, "image_path": stills[n % len(stills)],
         "scene_content": f"Scene {n}: a slow push-in on the old lighthouse at dusk.",
         "layer1_analysis": "Slow push-in, about 4 seconds."} for n in (1, 2, 3)]}
    path = tmp_path / "story.json"
    path.write_text(json.dumps(story))
    page.goto(base_url)
    page.set_input_files("#story-file", str(path))
    page.click("#start button[type=submit]")
    expect(page.locator("#story")).to_have_value("stills_early")

    last = page.locator('article.card[data-scene="3"]')
    figure = last.locator("figure.still")
    expect(figure).to_be_visible()
    # shown while the scene still waits its turn (one scene at a time): no clip exists yet
    assert last.get_attribute("data-state") in ("queued", "running")
    expect(last.locator("video")).to_be_hidden()
    expect(last.locator(".text")).to_have_text(story["scenes"][2]["scene_content"])
    img = figure.locator("img")
    expect(img).to_have_attribute("src", "/api/stories/stills_early/scenes/3/still?v=source")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    expect(figure.locator(".camera-caption")).to_have_text("source still")

    # once stored, the card draws the stored version's still with its camera path
    expect(last).to_have_attribute("data-state", "done", timeout=180_000)
    expect(figure.locator("svg")).to_be_visible()
    expect(img).to_have_attribute("src", "/api/stories/stills_early/scenes/3/still?v=1")
