// The streamer's control page: polls GET streams every second, draws each stream's
// throughput, and sends the controls to the public control API; below, a read-only view of
// the datasets' Kafka topics (GET kafka/...). No framework, no build.
"use strict";

const POLL_MS = 1000;
const WINDOW_MS = 120 * 1000; // what the chart shows
const REQUEST_TIMEOUT_MS = 5000;
const GAP_MS = 3500; // samples further apart than this are not joined by a line
const IDLE_STATES = new Set(["created", "paused", "finished", "stopped"]);

const cards = new Map(); // stream name -> card elements
const history = new Map(); // stream name -> [{t, achieved, asked}]

// --- the control API ---

async function api(path, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(path, { ...options, signal: controller.signal });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.message ? body.message : response.statusText;
      throw new Error(`${message} (HTTP ${response.status})`);
    }
    return body;
  } catch (error) {
    if (error.name === "AbortError") {
      throw new Error("the streamer did not answer in time");
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function post(path, body) {
  const options = { method: "POST" };
  if (body !== undefined) {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body);
  }
  return api(path, options);
}

function streamPath(name, action) {
  return `streams/${encodeURIComponent(name)}/${action}`;
}

// --- formatting ---

function number(value) {
  if (value === null || value === undefined) {
    return "–";
  }
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: Math.abs(value) < 10 ? 3 : 1 });
}

function describeRate(rate) {
  if (rate.mode === "rows_per_second") {
    return `${number(rate.value)} rows/s`;
  }
  if (rate.mode === "interval_s") {
    return `1 row / ${number(rate.value)} s`;
  }
  return `×${number(rate.value)} original speed`;
}

// The rate as the user typed it: a number when it is one, else the text as is, so that
// the API's own validation says what is wrong with it.
function typedRate(text) {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed !== "" && Number.isFinite(value) ? value : trimmed;
}

// --- cards ---

function domId(name, suffix) {
  return `stream-${name.replace(/[^A-Za-z0-9_-]/g, "_")}-${suffix}`;
}

function createCard(status) {
  const name = status.name;
  const fragment = document.getElementById("stream-card").content.cloneNode(true);
  const section = fragment.querySelector("section");
  const card = {
    section,
    field: (key) => section.querySelector(`[data-field="${key}"]`),
    canvas: section.querySelector("canvas"),
    input: section.querySelector(".rate-input"),
    mode: section.querySelector(".rate-mode"),
    error: section.querySelector(".control-error"),
  };
  section.dataset.stream = name;
  labelCard(card, name);
  // What the user types stays until it is sent; otherwise the inputs follow the stream.
  card.edited = false;
  card.input.addEventListener("input", () => (card.edited = true));
  card.mode.addEventListener("change", () => (card.edited = true));
  section.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    setRate(name, card);
  });
  for (const button of section.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => control(name, button.dataset.action, card));
  }
  document.getElementById("streams").append(section);
  return card;
}

function labelCard(card, name) {
  const section = card.section;
  const heading = section.querySelector(".stream-name");
  heading.textContent = name;
  heading.id = domId(name, "name");
  section.setAttribute("aria-labelledby", heading.id);
  card.input.id = domId(name, "rate");
  const label = section.querySelector(".rate-label");
  label.htmlFor = card.input.id;
  label.querySelector(".visually-hidden").textContent = ` of ${name}`;
  card.mode.setAttribute("aria-label", `Rate unit of ${name}`);
  card.canvas.setAttribute("aria-label", `Throughput of ${name}: achieved and asked rows/s`);
  card.error.id = domId(name, "error");
  card.input.setAttribute("aria-describedby", card.error.id);
  section.querySelector(".set").setAttribute("aria-label", `Set rate of ${name}`);
  for (const button of section.querySelectorAll("button[data-action]")) {
    button.setAttribute("aria-label", `${button.textContent} ${name}`);
  }
}

function showValue(element, text, value) {
  element.textContent = text;
  element.dataset.value = String(value);
}

function updateCard(card, status) {
  const state = card.field("state");
  state.textContent = status.state.replace(/_/g, " ");
  state.className = `state ${status.state}`;
  state.dataset.value = status.state;
  card.section.dataset.state = status.state;
  card.field("description").textContent = status.description || "";
  showValue(card.field("asked"), describeRate(status.rate), status.rate.rows_per_second ?? "");
  const achieved = status.achieved_rows_per_second;
  showValue(card.field("achieved"), `${number(achieved)} rows/s`, achieved);
  showValue(card.field("sent"), number(status.rows_sent), status.rows_sent);
  showValue(card.field("deadlettered"), number(status.rows_deadlettered), status.rows_deadlettered);
  card.field("error").textContent = status.error || "";
  syncRateInputs(card, status.rate);
}

function syncRateInputs(card, rate) {
  const focused = [card.input, card.mode].includes(document.activeElement);
  if (!card.edited && !focused) {
    card.input.value = String(rate.value);
    card.mode.value = rate.mode;
  }
}

function cardOf(status) {
  if (!cards.has(status.name)) {
    cards.set(status.name, createCard(status));
  }
  return cards.get(status.name);
}

// --- controls ---

async function setRate(name, card) {
  const body = { [card.mode.value]: typedRate(card.input.value) };
  if (await send(card, () => post(streamPath(name, "rate"), body))) {
    card.edited = false;
  }
}

async function control(name, action, card) {
  await send(card, () => post(streamPath(name, action)));
}

// Sends a control request; shows the API's error next to the controls. True when applied.
async function send(card, request) {
  card.error.textContent = "";
  try {
    updateCard(card, await request());
    return true;
  } catch (error) {
    card.error.textContent = error.message;
    return false;
  }
}

// --- samples and polling ---

function addSample(status, t) {
  const samples = history.get(status.name) || [];
  const asked = IDLE_STATES.has(status.state) ? null : status.rate.rows_per_second;
  samples.push({ t, achieved: status.achieved_rows_per_second, asked });
  while (samples.length && samples[0].t < t - WINDOW_MS - GAP_MS) {
    samples.shift();
  }
  history.set(status.name, samples);
}

function render(streams) {
  const now = Date.now();
  for (const status of streams) {
    const card = cardOf(status);
    updateCard(card, status);
    addSample(status, now);
  }
  drawAll(now);
}

function setConnection(ok, message) {
  const element = document.getElementById("connection");
  element.classList.toggle("down", !ok);
  element.textContent = ok
    ? `live · updated ${new Date().toLocaleTimeString("en-GB")}`
    : `streamer unreachable: ${message}`;
}

async function poll() {
  try {
    const body = await api("streams");
    render(body.streams);
    setConnection(true);
  } catch (error) {
    setConnection(false, error.message);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// --- the chart ---

function colors() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return {
    achieved: read("--achieved"),
    asked: read("--asked"),
    grid: read("--line"),
    text: read("--muted"),
  };
}

// The smallest 1, 2, 4, 5 or 8 times a power of ten at or above value: a top whose
// quarters (the grid lines) are round numbers.
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 4, 5, 8, 10].map((step) => step * power).find((step) => step >= value);
}

function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return { context, width, height };
}

function plotArea(width, height) {
  return { left: 56, right: width - 10, top: 10, bottom: height - 22 };
}

function drawGrid(context, area, top, palette) {
  context.font = "11px system-ui, sans-serif";
  context.lineWidth = 1;
  context.fillStyle = palette.text;
  context.textAlign = "right";
  context.textBaseline = "middle";
  for (let i = 0; i <= 4; i += 1) {
    const y = area.bottom - ((area.bottom - area.top) * i) / 4;
    context.strokeStyle = palette.grid;
    context.beginPath();
    context.moveTo(area.left, y);
    context.lineTo(area.right, y);
    context.stroke();
    context.fillText(number((top * i) / 4), area.left - 6, y);
  }
  context.textBaseline = "top";
  for (const secondsAgo of [120, 90, 60, 30, 0]) {
    const x = area.right - ((area.right - area.left) * secondsAgo * 1000) / WINDOW_MS;
    const edge = { 120: "left", 0: "right" }[secondsAgo];
    context.textAlign = edge || "center";
    context.fillText(secondsAgo === 0 ? "now" : `-${secondsAgo}s`, x, area.bottom + 5);
  }
}

function drawSeries(context, samples, key, scale, style) {
  context.strokeStyle = style.color;
  context.lineWidth = style.width;
  context.setLineDash(style.dash);
  context.beginPath();
  let previous = null;
  for (const sample of samples) {
    const value = sample[key];
    if (value === null || value === undefined) {
      previous = null;
      continue;
    }
    const x = scale.x(sample.t);
    const y = scale.y(value);
    if (previous && sample.t - previous.t <= GAP_MS) {
      context.lineTo(x, y);
    } else {
      context.moveTo(x, y);
    }
    previous = sample;
  }
  context.stroke();
  context.setLineDash([]);
}

function drawChart(canvas, samples, now) {
  const { context, width, height } = fitCanvas(canvas);
  const palette = colors();
  const area = plotArea(width, height);
  const visible = samples.filter((s) => s.t >= now - WINDOW_MS - GAP_MS);
  const highest = Math.max(1, ...visible.flatMap((s) => [s.achieved || 0, s.asked || 0]));
  const top = niceCeiling(highest * 1.1);
  const scale = {
    x: (t) => area.right - ((area.right - area.left) * (now - t)) / WINDOW_MS,
    y: (v) => area.bottom - ((area.bottom - area.top) * v) / top,
  };
  drawGrid(context, area, top, palette);
  context.save();
  context.beginPath();
  context.rect(area.left, area.top - 2, area.right - area.left, area.bottom - area.top + 4);
  context.clip();
  // The asked rate on top: where the achieved rate holds it, the dashes lie on its line.
  drawSeries(context, visible, "achieved", scale, { color: palette.achieved, width: 2.5, dash: [] });
  drawSeries(context, visible, "asked", scale, { color: palette.asked, width: 2, dash: [6, 4] });
  context.restore();
  canvas.dataset.samples = String(visible.length);
}

function drawAll(now) {
  for (const [name, card] of cards) {
    drawChart(card.canvas, history.get(name) || [], now);
  }
}

// --- the Kafka view (read-only) ---

const KAFKA_POLL_MS = 3000;
const RECORDS_LIMIT = 20;
const DEADLETTERS_LIMIT = 20;

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) {
    td.className = className;
  }
  row.append(td);
  return td;
}

// Replaces a table's rows: one per item, or one that says there is nothing.
function fillTable(id, items, fillRow, emptyText) {
  const table = document.getElementById(id);
  const rows = items.map((item) => {
    const row = document.createElement("tr");
    fillRow(row, item);
    return row;
  });
  if (!rows.length) {
    const row = document.createElement("tr");
    cell(row, emptyText, "empty").colSpan = table.tHead.rows[0].cells.length;
    rows.push(row);
  }
  table.tBodies[0].replaceChildren(...rows);
}

function kafkaTime(ms) {
  return ms < 0 ? "–" : new Date(ms).toISOString().replace("T", " ").slice(0, 23);
}

function renderTopics(topics) {
  fillTable(
    "kafka-topics",
    topics,
    (row, topic) => {
      row.dataset.topic = topic.topic;
      cell(row, topic.topic, "mono");
      cell(row, topic.kind);
      cell(row, topic.exists ? String(topic.partitions.length) : "not created", "number");
      const ends = topic.partitions.map((p) => `${p.partition}: ${number(p.end_offset)}`);
      cell(row, ends.join(" · "), "mono");
      cell(row, number(topic.end_offset), "number");
    },
    "no dataset topics",
  );
}

function renderLag(queries) {
  fillTable(
    "kafka-lag",
    queries,
    (row, query) => {
      row.dataset.query = query.query;
      cell(row, query.query, "mono");
      const started = query.committed_offset !== null;
      cell(row, started ? number(query.committed_offset) : "not started", "number");
      cell(row, number(query.end_offset), "number");
      const lag = cell(row, started ? number(query.lag) : "–", "number");
      lag.dataset.value = started ? String(query.lag) : "";
    },
    "no raw topic yet",
  );
}

function renderDeadLetters(letters) {
  fillTable(
    "kafka-deadletters",
    letters,
    (row, letter) => {
      row.dataset.topic = letter.topic;
      cell(row, kafkaTime(letter.timestamp_ms), "mono");
      cell(row, letter.dataset || "");
      cell(row, letter.stage || "");
      cell(row, letter.reason || "(no reason)", "reason");
      cell(row, letter.record || "", "mono value");
    },
    "no dead letters",
  );
}

function renderRecords(records) {
  fillTable(
    "kafka-records",
    records,
    (row, record) => {
      cell(row, kafkaTime(record.timestamp_ms), "mono");
      cell(row, String(record.partition), "number");
      cell(row, String(record.offset), "number");
      cell(row, record.key ?? "", "mono");
      const more = record.truncated ? ` … (${number(record.value_bytes)} bytes)` : "";
      cell(row, (record.value ?? "null") + more, "mono value");
    },
    "no records",
  );
}

// The topic list follows the topics; the chosen one stays chosen.
function syncTopicChoice(topics) {
  const select = document.getElementById("records-topic");
  const known = new Set([...select.options].map((option) => option.value));
  for (const topic of topics) {
    if (!known.has(topic.topic)) {
      select.append(new Option(`${topic.topic} (${topic.kind})`, topic.topic));
    }
  }
}

async function refreshRecords() {
  const select = document.getElementById("records-topic");
  const topic = select.value;
  const caption = document.querySelector("#kafka-records caption");
  if (!topic) {
    caption.textContent = "Last records";
    fillTable("kafka-records", [], () => {}, "choose a topic above");
    return;
  }
  const path = `kafka/topics/${encodeURIComponent(topic)}/records?limit=${RECORDS_LIMIT}`;
  const body = await api(path);
  if (select.value === topic) {
    caption.textContent = `Last records of ${topic}`;
    renderRecords(body.records);
  }
}

function setKafkaStatus(ok, message) {
  const element = document.getElementById("kafka-status");
  element.classList.toggle("down", !ok);
  element.textContent = ok
    ? `read ${new Date().toLocaleTimeString("en-GB")}`
    : `Kafka view: ${message}`;
}

async function pollKafka() {
  try {
    const [offsets, dead] = await Promise.all([
      api("kafka/topics"),
      api(`kafka/deadletters?limit=${DEADLETTERS_LIMIT}`),
    ]);
    renderTopics(offsets.topics);
    renderLag(offsets.queries);
    syncTopicChoice(offsets.topics);
    renderDeadLetters(dead.deadletters);
    await refreshRecords();
    setKafkaStatus(true);
  } catch (error) {
    setKafkaStatus(false, error.message);
  } finally {
    setTimeout(pollKafka, KAFKA_POLL_MS);
  }
}

document.getElementById("records-form").addEventListener("submit", (event) => event.preventDefault());
document.getElementById("records-topic").addEventListener("change", () => {
  refreshRecords().catch((error) => setKafkaStatus(false, error.message));
});

window.addEventListener("resize", () => drawAll(Date.now()));
poll();
pollKafka();
