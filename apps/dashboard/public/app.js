// @ts-check
/**
 * The dashboard page: one EventSource to the server, which sends the whole state when the page
 * connects ("snapshot") and each source's new state when it changes ("source"). Everything is drawn
 * with textContent (dead letters carry text from the outside world), times of a city in its zone.
 */
import { onGrid, rateChart, weatherChart } from "./charts.js";
import { age, cityName, clockTime, count, dateTime, fixed, rate } from "./format.js";

/** @typedef {import("../src/dashboard-state.ts").Snapshot} Snapshot */
/** @typedef {import("../src/dashboard-state.ts").SourceUpdate} SourceUpdate */
/** @typedef {import("../src/dashboard-state.ts").SourceName} SourceName */
/** @typedef {import("../src/dashboard-state.ts").StationInfo} StationInfo */
/** @typedef {import("../src/city-series.ts").SeriesResult} SeriesResult */
/** @typedef {import("../src/poller.ts").SourceState<unknown>} AnyState */

/** Readings older than this are marked: the station (or the pipeline) has gone quiet. */
const OLD_MS = 5 * 60_000;

/** @type {Record<SourceName, string>} */
const SOURCE_LABELS = {
  latest: "PostgreSQL · latest readings",
  day: "PostgreSQL · 24 h",
  week: "PostgreSQL · 7 d",
  rowsStored: "PostgreSQL · rows stored",
  lag: "Kafka · lag",
  deadLetters: "Kafka · dead letters",
  sinks: "Sinks · /metrics",
};

/** @type {Snapshot | null} */
let snapshot = null;
/** Server clock minus page clock, from the latest readings' timestamp, so ages use the server's clock. */
let clockOffsetMs = 0;
/** @type {Map<string, { card: HTMLElement, day: ReturnType<typeof weatherChart>, week: ReturnType<typeof weatherChart> }>} */
const cities = new Map();
/** @type {ReturnType<typeof rateChart> | null} */
let rowsChart = null;

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} [children]
 */
function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * @param {ParentNode} root
 * @param {string} selector
 */
function find(root, selector) {
  const node = root.querySelector(selector);
  if (!(node instanceof HTMLElement)) throw new Error(`the page has no ${selector}`);
  return node;
}

/**
 * @param {ParentNode} root
 * @param {string} field
 * @param {string} text
 */
function setField(root, field, text) {
  find(root, `[data-field="${field}"]`).textContent = text;
}

/** @param {"connecting" | "live" | "lost"} state */
function setStream(state) {
  const stream = find(document, "#stream");
  stream.dataset.state = state;
  stream.textContent =
    state === "live"
      ? "live"
      : state === "lost"
        ? "connection to the dashboard lost, reconnecting…"
        : "connecting…";
}

/** @param {string} iso */
function utcTime(iso) {
  return `${clockTime(iso, "UTC")}`;
}

/**
 * Shows a source's problem (or hides it) in `box`, and greys out `stale` while the data is old.
 * @param {HTMLElement} box
 * @param {AnyState | null} state
 * @param {HTMLElement} [stale]
 */
function showProblem(box, state, stale) {
  const unavailable = state?.status === "unavailable";
  box.hidden = !unavailable;
  box.textContent = unavailable ? `Unavailable since ${utcTime(state.since)}: ${state.error}` : "";
  stale?.classList.toggle("stale", unavailable);
}

function renderSources() {
  if (!snapshot) return;
  const nav = find(document, "#sources");
  nav.replaceChildren(
    ...Object.entries(SOURCE_LABELS).map(([name, label]) => {
      const state = snapshot?.sources[/** @type {SourceName} */ (name)] ?? null;
      const status = state?.status ?? "starting";
      const badge = el("span", { class: "badge", "data-source": name, "data-status": status }, [
        status === "unavailable" ? `${label}: unavailable` : label,
      ]);
      if (state?.error) badge.title = state.error;
      return badge;
    }),
  );
}

/** @param {StationInfo} station */
function stationBlock(station) {
  const fact = (/** @type {string} */ field, /** @type {string} */ label, /** @type {string} */ unit) =>
    el("span", { class: `fact ${field}` }, [
      ...(label ? [el("span", { class: "label" }, [label])] : []),
      el("span", { "data-field": field }, ["—"]),
      " ",
      el("span", { class: "unit" }, [unit]),
    ]);
  return el("div", { class: "station", "data-station": station.id }, [
    el("div", { class: "station-name" }, [`${station.name} (${station.id})`]),
    el("div", { class: "facts" }, [
      fact("temperature", "", "°C"),
      fact("wind", "wind", "km/h"),
      fact("humidity", "humidity", "%"),
      fact("pressure", "pressure", "hPa"),
    ]),
    el("div", { class: "when" }, [
      "observed ",
      el("time", { "data-field": "observedAt" }, ["—"]),
      ", ",
      el("span", { "data-field": "age" }, ["no reading yet"]),
    ]),
  ]);
}

/** One card per city of the catalog, in catalog order, built once per snapshot. */
function buildCities() {
  if (!snapshot) return;
  const section = find(document, "#cities");
  /** @type {Map<string, StationInfo[]>} */
  const byCity = new Map();
  for (const station of snapshot.stations)
    byCity.set(station.city, [...(byCity.get(station.city) ?? []), station]);
  cities.clear();
  section.replaceChildren();
  for (const [city, stations] of byCity) {
    const timeZone = stations[0]?.timeZone ?? "UTC";
    const card = el("article", { class: "city", "data-city": city, "data-time-zone": timeZone }, [
      el("h2", {}, [
        el("span", {}, [cityName(city)]),
        el("span", { class: "local-time", "data-field": "localTime" }, [clockTime(Date.now(), timeZone)]),
      ]),
      el("p", { class: "problem", "data-problem": "latest", hidden: "" }),
      el("div", { class: "stations" }, stations.map(stationBlock)),
      el("p", { class: "summary", "data-summary": "day" }, [
        "Last 24 h: ",
        el("span", { "data-field": "readings" }, ["—"]),
        " readings, temperature min ",
        el("span", { "data-field": "min" }, ["—"]),
        " / mean ",
        el("span", { "data-field": "avg" }, ["—"]),
        " / max ",
        el("span", { "data-field": "max" }, ["—"]),
        " °C",
      ]),
      el("p", { class: "problem", "data-problem": "day", hidden: "" }),
      el("div", { class: "chart", "data-chart": "day" }),
      el("p", { class: "problem", "data-problem": "week", hidden: "" }),
      el("div", { class: "chart", "data-chart": "week" }),
    ]);
    section.append(card);
    cities.set(city, {
      card,
      day: weatherChart(find(card, '[data-chart="day"]'), timeZone, `Last 24 hours (${timeZone})`),
      week: weatherChart(find(card, '[data-chart="week"]'), timeZone, `Last 7 days (${timeZone})`),
    });
  }
  if (byCity.size === 0) section.append(el("p", { class: "empty" }, ["The station catalog is empty."]));
}

function renderLatest() {
  const state = snapshot?.sources.latest ?? null;
  for (const { card } of cities.values()) {
    showProblem(find(card, '[data-problem="latest"]'), state, find(card, ".stations"));
  }
  if (!state?.data) return;
  clockOffsetMs = Date.parse(state.data.at) - Date.now();
  for (const reading of state.data.readings) {
    const block = document.querySelector(`[data-station="${CSS.escape(reading.stationId)}"]`);
    if (!(block instanceof HTMLElement)) continue;
    const timeZone = cities.get(reading.city)?.card.dataset.timeZone ?? "UTC";
    setField(block, "temperature", fixed(reading.temperatureC, 1));
    setField(block, "wind", fixed(reading.windSpeedKmh, 1));
    setField(block, "humidity", fixed(reading.humidityPct, 1));
    setField(block, "pressure", fixed(reading.pressureHpa, 1));
    find(block, ".fact.pressure").hidden = reading.pressureHpa === null;
    const observed = find(block, '[data-field="observedAt"]');
    observed.textContent = `${dateTime(reading.observedAt, timeZone).split(", ")[0]}, ${clockTime(reading.observedAt, timeZone)}`;
    observed.setAttribute("datetime", reading.observedAt);
    block.dataset.observedAt = reading.observedAt;
  }
  renderAges();
}

/** Ages and city clocks move every second without anything new from the server. */
function renderAges() {
  const now = Date.now() + clockOffsetMs;
  for (const block of document.querySelectorAll("[data-station][data-observed-at]")) {
    if (!(block instanceof HTMLElement) || !block.dataset.observedAt) continue;
    const ms = now - Date.parse(block.dataset.observedAt);
    const ageField = find(block, '[data-field="age"]');
    ageField.textContent = `${age(ms)} ago`;
    ageField.dataset.old = String(ms > OLD_MS);
  }
  for (const { card } of cities.values()) {
    setField(card, "localTime", clockTime(now, card.dataset.timeZone ?? "UTC"));
  }
}

/** @param {"day" | "week"} name */
function renderSeries(name) {
  const state = snapshot?.sources[name] ?? null;
  for (const [city, entry] of cities) {
    showProblem(
      find(entry.card, `[data-problem="${name}"]`),
      state,
      find(entry.card, `[data-chart="${name}"]`),
    );
    const data = state?.data;
    if (!data) continue;
    const series = data.cities.find((c) => c.city === city);
    const from = Date.parse(data.from) / 1000;
    const to = Date.parse(data.at) / 1000;
    const columns = series
      ? [series.temperatureAvg, series.temperatureMin, series.temperatureMax, series.windAvg]
      : [[], [], [], []];
    entry[name].update(onGrid({ time: series?.time ?? [], columns }, from, to, data.bucketSeconds), from, to);
    if (name === "day") {
      const summary = find(entry.card, '[data-summary="day"]');
      const figures = data.summaries.find((s) => s.city === city);
      summary.dataset.from = data.from;
      summary.dataset.to = data.to;
      setField(summary, "readings", count(figures?.readings ?? 0));
      setField(summary, "min", fixed(figures?.temperatureMin, 1));
      setField(summary, "avg", fixed(figures?.temperatureAvg, 1));
      setField(summary, "max", fixed(figures?.temperatureMax, 1));
    }
  }
}

/**
 * @param {string} id
 * @param {AnyState | null} state
 */
function panel(id, state) {
  const box = find(document, `#${id}`);
  showProblem(find(box, ".problem"), state, box);
  return box;
}

function renderRowsStored() {
  const state = snapshot?.sources.rowsStored ?? null;
  const box = panel("rows-stored", state);
  const data = state?.data;
  if (!data) return;
  setField(box, "perSecond", rate(data.perSecond));
  setField(
    box,
    "perCity",
    Object.entries(data.perCity)
      .map(([city, perSecond]) => `${cityName(city)} ${rate(perSecond)}/s`)
      .join(" · "),
  );
  rowsChart ??= rateChart(find(box, '[data-chart="rowsStored"]'));
  rowsChart.update(data.history);
}

function renderLag() {
  const state = snapshot?.sources.lag ?? null;
  const box = panel("lag", state);
  const data = state?.data;
  if (!data) return;
  setField(box, "totalLag", count(data.totalLag));
  const members = data.members.length;
  setField(
    box,
    "group",
    `topic ${data.topic}, group ${data.groupId}: ${data.groupState}, ${members} member${members === 1 ? "" : "s"}`,
  );
  find(box, '[data-field="partitions"]').replaceChildren(
    ...data.partitions.map((p) =>
      el("tr", { "data-partition": String(p.partition) }, [
        el("td", {}, [String(p.partition)]),
        el("td", { "data-high": String(p.high) }, [count(p.high)]),
        el("td", {}, [p.committed === null ? "none" : count(p.committed)]),
        el("td", { "data-lag": String(p.lag) }, [count(p.lag)]),
      ]),
    ),
  );
  find(box, '[data-field="members"]').replaceChildren(
    ...data.members.map((m) =>
      el("li", { "data-member": m.memberId }, [
        `${m.clientId} at ${m.host}: partition${m.partitions.length === 1 ? "" : "s"} ${m.partitions.join(", ") || "none"}`,
      ]),
    ),
  );
}

function renderSinks() {
  const state = snapshot?.sources.sinks ?? null;
  const box = panel("sinks", state);
  const data = state?.data;
  if (!data) return;
  setField(box, "up", `${data.up} of ${data.instances.length}`);
  find(box, '[data-field="instances"]').replaceChildren(
    ...data.instances.map((sink) => {
      const facts = sink.up
        ? [
            `${rate(sink.rowsPerSecond)} rows/s`,
            `${count(sink.rowsWritten)} rows written`,
            `${count(sink.deadLettered)} dead-lettered`,
            ...(sink.lag !== null ? [`lag ${count(sink.lag)}`] : []),
            ...(sink.waitingFor.length > 0 ? [`waiting for ${sink.waitingFor.join(", ")}`] : []),
          ]
        : [
            sink.error ?? "not answering",
            sink.lastSeen ? `last seen ${utcTime(sink.lastSeen)}` : "never seen",
          ];
      return el("li", { "data-sink-url": sink.url, "data-up": String(sink.up) }, [
        el("span", { class: "state" }, [sink.up ? "up" : "down"]),
        ` ${sink.url} (${sink.origin}): ${facts.join(", ")}`,
      ]);
    }),
  );
  if (data.instances.length === 0) {
    find(box, '[data-field="instances"]').append(
      el("li", {}, ["No sink configured (DASHBOARD_SINK_METRICS_URLS) or found in the group."]),
    );
  }
}

function renderDeadLetters() {
  const state = snapshot?.sources.deadLetters ?? null;
  const box = panel("dead-letters", state);
  const data = state?.data;
  if (!data) return;
  setField(box, "total", count(data.total));
  find(box, '[data-field="byReason"]').replaceChildren(
    ...data.byReason.map((r) =>
      el("li", { "data-reason": r.reason }, [
        el("span", { class: "reason" }, [r.reason]),
        `: ${count(r.count)}`,
      ]),
    ),
  );
  find(box, '[data-field="latest"]').replaceChildren(
    ...data.latest.map((letter) =>
      el("li", {}, [
        `${utcTime(letter.at)} `,
        el("span", { class: "reason" }, [letter.reason]),
        ` ${letter.message} (from ${letter.source})`,
      ]),
    ),
  );
}

/** @param {SourceName} name */
function render(name) {
  renderSources();
  switch (name) {
    case "latest":
      return renderLatest();
    case "day":
    case "week":
      return renderSeries(name);
    case "rowsStored":
      return renderRowsStored();
    case "lag":
      return renderLag();
    case "sinks":
      return renderSinks();
    case "deadLetters":
      return renderDeadLetters();
  }
}

function connect() {
  const events = new EventSource("/events");
  events.addEventListener("open", () => setStream("live"));
  // EventSource reconnects by itself (the server asks for 2 s); the page says so meanwhile.
  events.addEventListener("error", () => setStream("lost"));
  events.addEventListener("snapshot", (event) => {
    snapshot = JSON.parse(/** @type {MessageEvent<string>} */ (event).data);
    setStream("live");
    buildCities();
    for (const name of /** @type {SourceName[]} */ (Object.keys(SOURCE_LABELS))) render(name);
    document.body.dataset.ready = "true";
  });
  events.addEventListener("source", (event) => {
    /** @type {SourceUpdate} */
    const update = JSON.parse(/** @type {MessageEvent<string>} */ (event).data);
    if (!snapshot) return;
    snapshot = { ...snapshot, sources: { ...snapshot.sources, [update.name]: update.state } };
    render(update.name);
  });
}

connect();
setInterval(renderAges, 1000);
