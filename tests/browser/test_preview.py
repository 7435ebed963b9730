"""The preview page in Debian's chromium (Playwright): scene cards, live progress, playback,
plan and quality details, and a failed scene's rerun button."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

import browser_fixtures
from conftest import EXAMPLE_STORY
from serve_fixtures import scene

pytestmark = [browser_fixtures.needs_chromium, pytest.mark.slow]
images = browser_fixtures.images
base_url = browser_fixtures.base_url
browser = browser_fixtures.browser
page = browser_fixtures.page


def post_story(base_url: str, story: dict) -> None:
    response = httpx.post(f"{base_url}/api/stories", json=story, timeout=10)
    assert response.status_code == 202, response.text


def example_story() -> dict:
    """The example story, its stills named relative to the server's images root."""
    story = json.loads(EXAMPLE_STORY.read_text())
    for item in story["scenes"]:
        item["image_path"] = Path(item["image_path"]).name
    return story


def test_page_lists_the_example_scenes_and_shows_progress(base_url: str, page: Page) -> None:
    post_story(base_url, example_story())
    page.goto(f"{base_url}/?story=morning_cafe")
    cards = page.locator("article.card")
    expect(cards).to_have_count(4)
    expect(cards.locator("h2")).to_have_text(["Scene 2", "Scene 3", "Scene 4", "Scene 5"])
    # progress from the event stream: a running card with a moving bar and a stage name
    page.wait_for_function("""() => [...document.querySelectorAll('article.card')].some(c =>
        c.dataset.state === 'running' &&
        Number(c.querySelector('.progress').getAttribute('aria-valuenow')) > 0 &&
        /generate_primary|assess_quality|analyze_context|reason_motion/.test(
            c.querySelector('.stage').textContent))""")
    expect(page.locator("#run")).to_have_text("run: running")


def test_finished_scenes_play_and_show_plan_and_verdict(base_url: str, page: Page) -> None:
    ranges: list[str] = []
    page.on("request", lambda r: ranges.append(r.headers.get("range", ""))
            if r.url.split("?")[0].endswith("/video") else None)
    page.goto(f"{base_url}/?story=morning_cafe")
    cards = page.locator("article.card")
    expect(cards).to_have_count(4)
    for index in range(4):  # the run started by the previous test, or a fresh one
        expect(cards.nth(index)).to_have_attribute("data-state", "done", timeout=150_000)
    expect(page.locator("#run")).to_have_text("run: finished")
    assert page.evaluate("""document.createElement('video')
        .canPlayType('video/mp4; codecs="avc1.640028"')""") in ("probably", "maybe")
    card = page.locator('article.card[data-scene="5"]')
    video = card.locator("video")
    expect(video).to_be_visible()
    page.wait_for_function("""() => document.querySelector(
        'article.card[data-scene="5"] video').readyState >= 1""")
    duration = video.evaluate("v => v.duration")
    assert 4.0 <= duration <= 10.0
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("""() => document.querySelector(
        'article.card[data-scene="5"] video').currentTime > 0.5""")
    assert video.evaluate("v => v.error") is None
    assert any(r.startswith("bytes=") for r in ranges), ranges  # the browser seeks by ranges
    expect(card.locator(".stage")).to_contain_text("quality pass")
    card.locator("button.details-toggle").click()
    details = card.locator(".details")
    expect(details).to_be_visible()
    expect(details).to_contain_text("motion.type")
    expect(details).to_contain_text("Quality: pass")


def test_failed_scene_shows_its_reason_and_rerun_fixes_it(base_url: str, page: Page,
                                                          images: Path) -> None:
    post_story(base_url, {"story_id": "late_still",
                          "scenes": [scene(1, "arrives_later.jpg")]})
    page.goto(f"{base_url}/?story=late_still")
    card = page.locator('article.card[data-scene="1"]')
    expect(card).to_have_attribute("data-state", "failed")
    expect(card.locator(".error")).to_contain_text("image_path")
    expect(card.locator(".error")).to_contain_text("no such file")
    expect(card.locator("video")).to_be_hidden()
    shutil.copy(images / "coffee_table.jpg", images / "arrives_later.jpg")
    card.locator("button.rerun").click()
    expect(card.locator(".error")).to_be_hidden()
    expect(card).to_have_attribute("data-state", "done", timeout=60_000)
    expect(card.locator("video")).to_be_visible()
    expect(card.locator("button.rerun")).to_have_text("Rerun (force)")  # any scene reruns
    status = httpx.get(f"{base_url}/api/stories/late_still/scenes/1", timeout=10).json()
    assert status["status"] == "done" and status["metadata"]["provider"] == "local"
