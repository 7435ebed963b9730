"""The control panel in Debian's chromium (Playwright): start a story from the page, the scene
card's still with the camera path, text and notes, quality marks with units and thresholds and
per-frame plots, rerun of a passing scene, versions side by side and the choice of the current
one, cost and provider per scene and story totals. Each test runs its own story."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

import browser_fixtures

pytestmark = [browser_fixtures.needs_chromium, pytest.mark.slow]
SHOTS = os.environ.get("VIDEO_AGENT_SCREENSHOTS")
"""A folder to save a screenshot of each step in (none are taken without it)."""
images = browser_fixtures.images
base_url = browser_fixtures.base_url
browser = browser_fixtures.browser
page = browser_fixtures.page


def story_file(tmp_path: Path, story_id: str, images: Path, scenes: int = 1) -> Path:
    stills = sorted(p.name for p in images.glob("*.jpg"))
    path = tmp_path / f"{story_id}.json"
    path.write_text(json.dumps({"story_id": story_id, "scenes": [
        {"scene_number": n, "image_path": stills[n % len(stills)],
         "scene_content": f"Scene {n}: a slow push-in on the old lighthouse at dusk.",
         "layer1_analysis": "Slow push-in toward the lighthouse, about 4 seconds."}
        for n in range(1, scenes + 1)]}))
    return path


def start_from_page(page: Page, base_url: str, path: Path, refused: bool = False,
                    **choices: str) -> None:
    page.goto(base_url)
    page.set_input_files("#story-file", str(path))
    for name, value in choices.items():
        if name == "budget":
            page.fill("#budget", value)
        else:
            page.select_option(f"#{name}", value)
    page.click("#start button[type=submit]")
    if refused:
        return
    # the page first shows the folder's first story; its cards must not stand in for the new one's
    story_id = json.loads(path.read_text())["story_id"]
    expect(page.locator("#story")).to_have_value(story_id)
    expect(page).to_have_url(f"{base_url}/?story={story_id}")


def finished_card(page: Page, key: str = "1") -> object:
    card = page.locator(f'article.card[data-scene="{key}"]')
    expect(card).to_have_attribute("data-state", "done", timeout=120_000)
    return card


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_start_a_story_from_the_page_with_chosen_settings(base_url: str, page: Page,
                                                          images: Path, tmp_path: Path) -> None:
    page.goto(base_url)
    expect(page.locator("#primary option")).not_to_have_count(0)
    assert "fal:" in " ".join(page.locator("#primary option").all_inner_texts())
    shot(page, "1-idle")
    start_from_page(page, base_url, story_file(tmp_path, "from_page", images, scenes=2),
                    primary="local:draft", fallback="", resolution="1280x720", budget="0")
    expect(page).to_have_url(f"{base_url}/?story=from_page")
    page.wait_for_function("""() => [...document.querySelectorAll('article.card')].some(c =>
        c.dataset.state === 'running' &&
        Number(c.querySelector('.progress').getAttribute('aria-valuenow')) > 0)""")
    shot(page, "2-running")
    card = finished_card(page)
    finished_card(page, "2")
    expect(page.locator("#run")).to_have_text("run: finished")
    shot(page, "3-finished")
    meta = httpx.get(f"{base_url}/api/stories/from_page/scenes/1", timeout=10).json()["metadata"]
    assert meta["resolution"] == "1280x720" and meta["model"] == "embedded-draft"
    expect(card.locator(".provider")).to_contain_text("local:embedded-draft")


def test_a_new_output_folder_shows_the_start_form_and_no_empty_story_picker(
        page: Page, images: Path, tmp_path: Path) -> None:
    from serve_fixtures import FAST, serving

    with serving(tmp_path / "new_out", images_root=images, **FAST) as url:
        page.goto(url)
        expect(page.locator("#empty")).to_be_visible()
        expect(page.locator("#story")).to_be_hidden()
        expect(page.locator("#primary option")).not_to_have_count(0)
        start_from_page(page, url, story_file(tmp_path, "first", images), primary="local:draft",
                        fallback="", resolution="1024x576", budget="")
        expect(page.locator("#story")).to_be_visible()
        expect(page.locator("#story")).to_have_value("first")
        finished_card(page)


def test_a_provider_that_cannot_work_is_refused_on_the_page(base_url: str, page: Page,
                                                            images: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    page.goto(base_url)
    first_fal = next(t for t in page.locator("#primary option").all_inner_texts()
                     if t.startswith("fal:"))
    start_from_page(page, base_url, story_file(tmp_path, "refused", images),
                    refused=True, primary=first_fal)
    error = page.locator("#start-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("primary: no fal.ai key")
    assert httpx.get(f"{base_url}/api/stories/refused", timeout=10).status_code == 404


def test_card_shows_still_camera_path_text_checks_and_plots(base_url: str, page: Page,
                                                            images: Path, tmp_path: Path) -> None:
    start_from_page(page, base_url, story_file(tmp_path, "card_view", images))
    card = finished_card(page)
    still = card.locator(".still img")
    expect(still).to_be_visible()
    page.wait_for_function("""() => document.querySelector(
        'article.card[data-scene="1"] .still img').naturalWidth > 0""")
    start, end = card.locator("svg.camera rect.start"), card.locator("svg.camera rect.end")
    boxes = [float(r.get_attribute(a)) for r in (start, end) for a in ("width", "height")]
    assert 0 < boxes[2] < boxes[0] <= 1, "a push-in ends on a tighter frame than it starts"
    assert len(card.locator("svg.camera polyline.path").get_attribute("points").split()) == 9
    expect(card.locator(".camera-caption")).to_contain_text("push in")
    expect(card.locator(".text")).to_contain_text("old lighthouse at dusk")
    expect(card.locator(".notes")).to_contain_text("Layer 1: Slow push-in toward")
    expect(card.locator("video")).to_be_visible()
    card.locator("button.details-toggle").click()
    checks = card.locator("tr.check")
    expect(checks.first).to_be_visible()
    jitter = card.locator('tr.check[data-metric="jitter_px"]')
    expect(jitter).to_contain_text("px")
    expect(jitter).to_contain_text("<= 0.35")
    expect(jitter.locator(".mark")).to_have_text("✓")
    expect(card.locator('tr.check[data-metric="bitrate"] td').last).to_have_text("2-5 Mbps")
    expect(card.locator('tr.check[data-metric="duration"] td').last).to_have_text("4-10 s")
    expect(card.locator('tr.check[data-metric="ssim_first"] td').last).to_contain_text(">= ")
    for plot in ("motion", "brightness"):
        points = card.locator(f"svg.plot.{plot} polyline").get_attribute("points").split()
        assert len(points) >= 90, f"{plot}: one point per frame or span"
    card.scroll_into_view_if_needed()
    shot(page, "4-details")


def test_rerun_a_passing_scene_then_pick_the_earlier_version(base_url: str, page: Page,
                                                             images: Path,
                                                             tmp_path: Path) -> None:
    start_from_page(page, base_url, story_file(tmp_path, "versions", images))
    card = finished_card(page)
    expect(page.locator("#run")).to_have_text("run: finished")
    rerun = card.locator("button.rerun")
    expect(rerun).to_have_text("Rerun (force)")
    rerun.click()
    expect(card.locator(".stage")).to_contain_text("v2", timeout=120_000)
    finished_card(page)
    card.locator("button.versions-toggle").click()
    versions = card.locator(".versions figure.version")
    expect(versions).to_have_count(2)
    expect(card.locator(".versions figure.version.current")).to_have_attribute(
        "data-version", "2")
    for index in range(2):
        page.wait_for_function(f"""() => document.querySelectorAll(
            'article.card[data-scene="1"] .versions video')[{index}].readyState >= 1""")
    shot(page, "5-versions")
    card.locator('.versions figure[data-version="1"] button.make-current').click()
    expect(card.locator(".versions figure.version.current")).to_have_attribute(
        "data-version", "1")
    expect(card.locator(".stage")).to_contain_text("v1")
    status = httpx.get(f"{base_url}/api/stories/versions/scenes/1", timeout=10).json()
    assert status["version"] == 1 and [v["current"] for v in status["versions"]] == [True, False]


def test_cost_and_provider_per_scene_and_story_totals(base_url: str, page: Page, images: Path,
                                                      tmp_path: Path) -> None:
    start_from_page(page, base_url, story_file(tmp_path, "totals", images, scenes=2))
    for key in ("1", "2"):
        card = finished_card(page, key)
        expect(card.locator(".provider")).to_contain_text("local:embedded-draft · primary · $0.00")
    expect(page.locator("#totals")).to_contain_text("2/2 done")
    total = httpx.get(f"{base_url}/api/stories/totals", timeout=10).json()["totals"]
    expect(page.locator("#totals")).to_contain_text(f"{total['seconds']:.1f} s of video · $0.00")
