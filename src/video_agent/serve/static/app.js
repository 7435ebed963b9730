// Video Agent control panel: start a story, one card per scene with live progress over
// server-sent events, the source still with the camera path, quality checks, versions.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const enc = encodeURIComponent;
let storyId = null;
let storyRunning = false; // a scene reruns only when its story is not running
let source = null;
const cards = new Map();
const shown = new Map(); // scene -> version whose panel is drawn
const versionsOf = new Map(); // scene -> its stored versions

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function card(key) {
  if (cards.has(key)) return cards.get(key);
  const node = $("#card").content.firstElementChild.cloneNode(true);
  node.dataset.scene = key;
  $("h2", node).textContent = `Scene ${key}`;
  $(".rerun", node).addEventListener("click", () => rerun(key, node));
  $(".details-toggle", node).addEventListener("click", () => toggle($(".details", node)));
  $(".versions-toggle", node).addEventListener("click", () => {
    const box = $(".versions", node);
    // the clips of the versions load only while the panel is open
    if (box.hidden) drawVersions(key, node, versionsOf.get(key) || []);
    else box.replaceChildren();
    toggle(box);
  });
  const list = $("#scenes");
  const after = [...list.children].find((c) => Number(c.dataset.scene) > Number(key));
  list.insertBefore(node, after || null);
  cards.set(key, node);
  return node;
}

function toggle(box) { box.hidden = !box.hidden; }

function setProgress(node, fraction, stage, message) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100);
  // the bar only moves forward while a run goes on
  const before = Number($(".progress", node).getAttribute("aria-valuenow") || 0);
  const value = node.dataset.state === "running" ? Math.max(before, pct) : pct;
  $(".bar", node).style.width = `${value}%`;
  $(".progress", node).setAttribute("aria-valuenow", String(value));
  $(".stage", node).textContent = stage ? `${stage} ${value}%${message ? ` – ${message}` : ""}` : "";
}

function setState(node, state) {
  const badge = $(".state", node);
  badge.textContent = state.replace("_", " ");
  badge.className = `state ${state}`;
  if (node.dataset.state !== state && state !== "running") {
    $(".progress", node).setAttribute("aria-valuenow", "0");
  }
  node.dataset.state = state;
}

function money(usd) { return `$${Number(usd || 0).toFixed(2)}`; }

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
    $(".provider", node).textContent =
      `${scene.provider}:${scene.model} · ${scene.slot || "primary"} · ${money(scene.cost_usd)}`;
    if (shown.get(key) !== scene.version) loadPanel(key, node, scene.version);
  } else if (scene.status === "running" || scene.status === "queued") {
    setProgress(node, scene.overall ?? scene.progress, scene.stage || scene.status,
      scene.message);
  } else {
    setProgress(node, 0, "", "");
  }
  if (!done && scene.still) drawSourceStill(node, scene.still);
  error.hidden = scene.status !== "failed";
  error.textContent = scene.status === "failed"
    ? `Failed at ${scene.stage}${scene.field ? ` (${scene.field})` : ""}: ${scene.detail}` : "";
  if (scene.scene_content) $(".text", node).textContent = scene.scene_content;
  if (scene.layer1_analysis) $(".notes", node).textContent = `Layer 1: ${scene.layer1_analysis}`;
  const busy = storyRunning || scene.status === "running" || scene.status === "queued";
  $(".rerun", node).hidden = busy || scene.status === "not_run" && !scene.version;
  $(".rerun", node).textContent = done ? "Rerun (force)" : "Rerun scene";
  $(".details-toggle", node).hidden = !done;
  $(".versions-toggle", node).hidden = !done;
}

async function loadPanel(key, node, version) {
  shown.set(key, version);
  const id = storyId;
  try {
    const scene = await getJSON(`/api/stories/${enc(id)}/scenes/${key}`);
    if (id !== storyId) return;
    drawStill(node, scene);
    if (scene.scene_content) $(".text", node).textContent = scene.scene_content;
    if (scene.layer1_analysis) $(".notes", node).textContent = `Layer 1: ${scene.layer1_analysis}`;
    const note = $(".fallback", node);
    note.hidden = !scene.fallback;
    note.textContent = scene.fallback || "";
    drawDetails(node, scene);
    versionsOf.set(key, scene.versions || []);
    if (!$(".versions", node).hidden) drawVersions(key, node, scene.versions || []);
  } catch (err) {
    shown.delete(key);
    $(".details", node).textContent = String(err.message || err);
  }
}

const SVG = "http://www.w3.org/2000/svg";

function drawStill(node, scene) {
  const figure = $(".still", node);
  if (!scene.still) { figure.hidden = true; return; }
  $("img", figure).src = `${scene.still}?v=${scene.version}`;
  figure.hidden = false;
  const cam = scene.camera;
  const svg = $("svg", figure);
  svg.style.display = cam ? "" : "none";
  if (!cam) return;
  for (const [name, r] of [["start", cam.start], ["end", cam.end]]) {
    const rect = $(`rect.${name}`, svg);
    rect.setAttribute("x", r.x); rect.setAttribute("y", r.y);
    rect.setAttribute("width", r.w); rect.setAttribute("height", r.h);
  }
  $("polyline.path", svg).setAttribute("points",
    cam.path.map((r) => `${r.x + r.w / 2},${r.y + r.h / 2}`).join(" "));
  $(".camera-caption", figure).textContent =
    `${cam.motion.replace("_", " ")}${cam.direction ? ` ${cam.direction.replaceAll("_", " ")}` : ""}: ` +
    "green = first frame, red = last frame";
}

// the still the scene names, before a clip (and so a camera path) exists
function drawSourceStill(node, still) {
  const figure = $(".still", node);
  const img = $("img", figure);
  const src = `${still}?v=source`;
  if (img.getAttribute("src") !== src) img.setAttribute("src", src);
  $("svg", figure).style.display = "none";
  $(".camera-caption", figure).textContent = "source still";
  figure.hidden = false;
}

function plot(series, label, colour) {
  const values = series || [];
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 120 30");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", `plot ${label}`);
  svg.setAttribute("aria-label", `${label} per frame`);
  if (values.length > 1) {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const span = hi - lo || 1;
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", values.map((v, i) =>
      `${(i * 120 / (values.length - 1)).toFixed(1)},${(28 - 26 * (v - lo) / span).toFixed(1)}`)
      .join(" "));
    line.setAttribute("stroke", colour);
    svg.appendChild(line);
  }
  const box = el("div", undefined, "plot-box");
  box.append(el("span", `${label} (${values.length ? `${Math.min(...values).toFixed(1)}–` +
    `${Math.max(...values).toFixed(1)}` : "no data"})`), svg);
  return box;
}

function drawDetails(node, scene) {
  const box = $(".details", node);
  const meta = scene.metadata || {};
  const reasoning = meta.reasoning || {};
  const quality = meta.quality || {};
  const decisions = (reasoning.decisions || []).map(
    (d) => `${d.field} = ${JSON.stringify(d.value)}: ${d.reason}`);
  const plan = el("ul");
  for (const text of decisions.length ? decisions : ["(no decisions recorded)"]) {
    plan.appendChild(el("li", text));
  }
  const checks = el("table", undefined, "checks");
  const head = el("tr");
  for (const h of ["", "check", "value", "threshold"]) head.appendChild(el("th", h));
  checks.appendChild(head);
  for (const c of scene.checks || []) {
    const row = el("tr", undefined, `check ${c.outcome}`);
    row.dataset.metric = c.metric;
    const mark = { pass: "✓", repair: "↻", fail: "✗", flag: "!" }[c.outcome] || "?";
    if (c.reason) row.title = c.reason;
    row.append(el("td", mark, "mark"), el("td", c.property),
      el("td", `${c.value}${c.unit ? ` ${c.unit}` : ""}`), el("td", c.threshold));
    checks.appendChild(row);
  }
  const series = quality.series || {};
  const reasons = el("ul");
  for (const r of [...(quality.reasons || []), ...(quality.repairs || []).map((s) => `repaired: ${s}`)]) {
    reasons.appendChild(el("li", r));
  }
  box.replaceChildren(el("h3", "Plan"), plan, el("h3", `Quality: ${quality.verdict || "n/a"}`),
    reasons, checks, el("h3", "Per frame"),
    plot(series.motion, "motion", "#d55e00"), plot(series.brightness, "brightness", "#0072b2"));
}

function drawVersions(key, node, versions) {
  const box = $(".versions", node);
  const row = el("div", undefined, "version-row");
  for (const v of versions) {
    const item = el("figure", undefined, `version${v.current ? " current" : ""}`);
    item.dataset.version = String(v.version);
    const clip = el("video");
    clip.controls = true; clip.preload = "metadata"; clip.muted = true;
    clip.src = v.video;
    const caption = el("figcaption",
      `v${v.version} · ${v.provider}:${v.model} · ${v.verdict || ""} · ${money(v.cost_usd)}`);
    item.append(clip, caption);
    if (v.current) {
      item.appendChild(el("span", "current", "current-mark"));
    } else {
      const pick = el("button", "Make current", "make-current");
      pick.type = "button";
      pick.addEventListener("click", () => makeCurrent(key, v.version, pick));
      item.appendChild(pick);
    }
    row.appendChild(item);
  }
  box.replaceChildren(row);
}

async function makeCurrent(key, version, button) {
  button.disabled = true;
  try {
    await getJSON(`/api/stories/${enc(storyId)}/scenes/${key}/versions/${version}/current`,
      { method: "POST" });
    await refresh();
  } catch (err) {
    button.textContent = `refused: ${err.message || err}`;
  }
}

async function refresh() {
  const id = storyId;
  if (!id) return;
  try {
    const info = await getJSON(`/api/stories/${enc(id)}`);
    if (id !== storyId) return; // another story was chosen meanwhile
    $("#run").textContent = `run: ${info.run}`;
    $("#cancel").hidden = info.run !== "running";
    storyRunning = info.run === "running";
    const t = info.totals || {};
    $("#totals").textContent = `${t.done || 0}/${t.scenes || 0} done · ` +
      `${(t.seconds || 0).toFixed(1)} s of video · ${money(t.cost_usd)}`;
    for (const [key, scene] of Object.entries(info.scenes)) render(key, scene);
  } catch (err) {
    $("#run").textContent = String(err.message || err);
  }
}

function listen() {
  if (source) source.close();
  source = new EventSource(`/api/stories/${enc(storyId)}/events`);
  source.addEventListener("progress", (e) => {
    const event = JSON.parse(e.data);
    const node = card(String(event.scene));
    setState(node, "running");
    setProgress(node, event.overall ?? event.progress, event.stage, event.message);
  });
  source.addEventListener("snapshot", (e) => {
    const event = JSON.parse(e.data);
    if (!event.running) return;
    for (const [key, live] of Object.entries(event.live)) {
      if (live.state !== "queued" && live.state !== "running") continue;
      const node = card(key);
      setState(node, live.state);
      setProgress(node, live.overall ?? live.progress, live.stage || live.state, live.message);
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
    await getJSON(`/api/stories/${enc(storyId)}/cancel`, { method: "POST" });
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
    await getJSON(`/api/stories/${enc(storyId)}/scenes/${key}/rerun`, { method: "POST" });
    setState(node, "queued");
    $(".error", node).hidden = true;
    button.hidden = true;
  } catch (err) {
    $(".error", node).hidden = false;
    $(".error", node).textContent = `Rerun refused: ${err.message || err}`;
  } finally {
    button.disabled = false;
  }
}

async function loadStories() {
  const { stories } = await getJSON("/api/stories");
  const select = $("#story");
  select.replaceChildren(...stories.map((s) => {
    const option = el("option", `${s.story_id} (${s.scenes} scenes)`);
    option.value = s.story_id;
    return option;
  }));
  const wanted = new URLSearchParams(location.search).get("story");
  const ids = stories.map((s) => s.story_id);
  $("#empty").hidden = ids.length > 0 || Boolean(wanted);
  select.parentElement.hidden = ids.length === 0 && !wanted;  // no empty picker on a new folder
  return wanted || ids[0] || null;
}

async function choose(id) {
  storyId = id;
  cards.clear();
  shown.clear();
  versionsOf.clear();
  $("#scenes").replaceChildren();
  if (!id) return;
  const select = $("#story");
  if (![...select.options].some((o) => o.value === id)) {
    const option = el("option", id);
    option.value = id;
    select.appendChild(option);
  }
  select.value = id;
  select.parentElement.hidden = false;
  const url = new URL(location.href);
  url.searchParams.set("story", id);
  history.replaceState(null, "", url);
  await refresh();
  listen();
}

async function loadProviders() {
  const info = await getJSON("/api/providers");
  const fill = (select, values, chosen, none) => {
    select.replaceChildren(...[...(none ? [""] : []), ...values].map((v) => {
      const option = el("option", v || "none");
      option.value = v;
      return option;
    }));
    select.value = chosen;
  };
  fill($("#primary"), info.providers, info.primary, false);
  fill($("#fallback"), info.providers, info.fallback, true);
  fill($("#resolution"), info.resolutions, info.resolution, false);
}

async function startStory(event) {
  event.preventDefault();
  const error = $("#start-error");
  error.hidden = true;
  const file = $("#story-file").files[0];
  if (!file) return;
  const params = new URLSearchParams({
    primary: $("#primary").value, fallback: $("#fallback").value,
    resolution: $("#resolution").value,
  });
  if ($("#budget").value !== "") params.set("budget", $("#budget").value);
  if ($("#force").checked) params.set("force", "1");
  try {
    const started = await getJSON(`/api/stories?${params}`, {
      method: "POST", headers: { "content-type": "application/json" }, body: await file.text(),
    });
    $("#empty").hidden = true;
    await choose(started.story_id);
  } catch (err) {
    error.textContent = `Not started: ${err.message || err}`;
    error.hidden = false;
  }
}

$("#story").addEventListener("change", (e) => choose(e.target.value));
$("#cancel").addEventListener("click", cancelRun);
$("#start").addEventListener("submit", startStory);

loadProviders().catch((err) => { $("#start-error").textContent = String(err); });
loadStories().then((id) => { if (storyId === null) return choose(id); }).catch((err) => { $("#run").textContent = String(err); });
