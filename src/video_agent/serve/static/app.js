// Video Agent preview page: one card per scene, live progress over server-sent events.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
let storyId = null;
let source = null;
const cards = new Map();

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function card(key) {
  if (cards.has(key)) return cards.get(key);
  const node = $("#card").content.firstElementChild.cloneNode(true);
  node.dataset.scene = key;
  $("h2", node).textContent = `Scene ${key}`;
  $(".rerun", node).addEventListener("click", () => rerun(key, node));
  $(".details-toggle", node).addEventListener("click", () => toggleDetails(key, node));
  const list = $("#scenes");
  const after = [...list.children].find((c) => Number(c.dataset.scene) > Number(key));
  list.insertBefore(node, after || null);
  cards.set(key, node);
  return node;
}

function setProgress(node, fraction, stage, message) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100);
  $(".bar", node).style.width = `${pct}%`;
  $(".progress", node).setAttribute("aria-valuenow", String(pct));
  $(".stage", node).textContent = stage ? `${stage} ${pct}%${message ? ` – ${message}` : ""}` : "";
}

function setState(node, state) {
  const badge = $(".state", node);
  badge.textContent = state.replace("_", " ");
  badge.className = `state ${state}`;
  node.dataset.state = state;
}

function render(key, scene) {
  const node = card(key);
  setState(node, scene.status);
  const video = $("video", node);
  const error = $(".error", node);
  const done = scene.status === "done";
  if (done) {
    const src = `${scene.video}?v=${scene.version}`;
    if (video.getAttribute("src") !== src) video.setAttribute("src", src);
    video.hidden = false;
    setProgress(node, 1, "", "");
    $(".stage", node).textContent =
      `v${scene.version} · ${(scene.duration || 0).toFixed(1)} s · ${scene.provider || ""} · ` +
      `quality ${scene.verdict || "n/a"}`;
  } else if (scene.status === "running" || scene.status === "queued") {
    setProgress(node, scene.progress, scene.stage || scene.status, scene.message);
  } else {
    setProgress(node, 0, "", "");
  }
  error.hidden = scene.status !== "failed";
  error.textContent = scene.status === "failed"
    ? `Failed at ${scene.stage}${scene.field ? ` (${scene.field})` : ""}: ${scene.detail}` : "";
  $(".rerun", node).hidden = scene.status !== "failed";
  $(".details-toggle", node).hidden = !done;
}

async function refresh() {
  if (!storyId) return;
  try {
    const info = await getJSON(`/api/stories/${encodeURIComponent(storyId)}`);
    $("#run").textContent = `run: ${info.run}`;
    $("#cancel").hidden = info.run !== "running";
    for (const [key, scene] of Object.entries(info.scenes)) render(key, scene);
  } catch (err) {
    $("#run").textContent = String(err.message || err);
  }
}

function listen() {
  if (source) source.close();
  source = new EventSource(`/api/stories/${encodeURIComponent(storyId)}/events`);
  source.addEventListener("progress", (e) => {
    const event = JSON.parse(e.data);
    const node = card(String(event.scene));
    setState(node, "running");
    setProgress(node, event.progress, event.stage, event.message);
  });
  source.addEventListener("snapshot", (e) => {
    const event = JSON.parse(e.data);
    if (!event.running) return;
    for (const [key, live] of Object.entries(event.live)) {
      if (live.state !== "queued" && live.state !== "running") continue;
      const node = card(key);
      setState(node, live.state);
      setProgress(node, live.progress, live.stage || live.state, live.message);
    }
  });
  for (const kind of ["started", "planned", "done", "failed", "finished"]) {
    source.addEventListener(kind, () => refresh());
  }
}

async function cancelRun() {
  const button = $("#cancel");
  button.disabled = true;
  try {
    await getJSON(`/api/stories/${encodeURIComponent(storyId)}/cancel`, { method: "POST" });
  } catch (err) {
    $("#run").textContent = `cancel refused: ${err.message || err}`;
  } finally {
    button.disabled = false;
    refresh();
  }
}

async function rerun(key, node) {
  const button = $(".rerun", node);
  button.disabled = true;
  try {
    await getJSON(`/api/stories/${encodeURIComponent(storyId)}/scenes/${key}/rerun`,
      { method: "POST" });
    setState(node, "queued");
    $(".error", node).hidden = true;
    button.hidden = true;
  } catch (err) {
    $(".error", node).textContent = `Rerun refused: ${err.message || err}`;
  } finally {
    button.disabled = false;
  }
}

function listItems(items) {
  const ul = document.createElement("ul");
  for (const text of items) {
    const li = document.createElement("li");
    li.textContent = text;
    ul.appendChild(li);
  }
  return ul;
}

async function toggleDetails(key, node) {
  const box = $(".details", node);
  if (!box.hidden) { box.hidden = true; return; }
  box.replaceChildren();
  try {
    const scene = await getJSON(`/api/stories/${encodeURIComponent(storyId)}/scenes/${key}`);
    const meta = scene.metadata || {};
    const reasoning = meta.reasoning || {};
    const quality = meta.quality || {};
    const plan = document.createElement("h3");
    plan.textContent = "Plan";
    const decisions = (reasoning.decisions || []).map(
      (d) => `${d.field} = ${JSON.stringify(d.value)}: ${d.reason}`);
    const verdict = document.createElement("h3");
    verdict.textContent = `Quality: ${quality.verdict || "n/a"}`;
    const metrics = Object.entries(quality.metrics || {}).map(([k, v]) => `${k}: ${v}`);
    box.append(plan, listItems(decisions.length ? decisions : ["(no decisions recorded)"]),
      verdict, listItems([...(quality.reasons || []), ...metrics]));
  } catch (err) {
    box.textContent = String(err.message || err);
  }
  box.hidden = false;
}

async function loadStories() {
  const { stories } = await getJSON("/api/stories");
  const select = $("#story");
  select.replaceChildren(...stories.map((s) => {
    const option = document.createElement("option");
    option.value = s.story_id;
    option.textContent = `${s.story_id} (${s.scenes} scenes)`;
    return option;
  }));
  const wanted = new URLSearchParams(location.search).get("story");
  const ids = stories.map((s) => s.story_id);
  $("#empty").hidden = ids.length > 0 || Boolean(wanted);
  return wanted || ids[0] || null;
}

async function choose(id) {
  storyId = id;
  cards.clear();
  $("#scenes").replaceChildren();
  if (!id) return;
  const select = $("#story");
  if (![...select.options].some((o) => o.value === id)) {
    const option = document.createElement("option");
    option.value = option.textContent = id;
    select.appendChild(option);
  }
  select.value = id;
  await refresh();
  listen();
}

$("#story").addEventListener("change", (e) => {
  const url = new URL(location.href);
  url.searchParams.set("story", e.target.value);
  history.replaceState(null, "", url);
  choose(e.target.value);
});

$("#cancel").addEventListener("click", cancelRun);

loadStories().then(choose).catch((err) => { $("#run").textContent = String(err); });
