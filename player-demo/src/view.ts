import type { ConnectionState, Problem } from "./playback";

/** Finds an element the page's HTML declares; a missing one is a bug of the page. */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`player demo: #${id} is missing from index.html`);
  return el as T;
}

/** Sets an element's text only when it changed (the stats refresh four times a second). */
export function setText(id: string, text: string): void {
  const el = byId(id);
  if (el.textContent !== text) el.textContent = text;
}

const STATE_LABELS: Record<ConnectionState | "idle" | "stopped", string> = {
  idle: "idle",
  stopped: "stopped",
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  ended: "ended",
  failed: "failed",
};

/** Shows the connection state in the header pill. */
export function showState(state: ConnectionState | "idle" | "stopped", detail: string): void {
  byId("status").dataset.state = state;
  setText("status-text", STATE_LABELS[state]);
  setText("fact-state", detail ? `${STATE_LABELS[state]} · ${detail}` : STATE_LABELS[state]);
  byId("badge-live").hidden = state !== "live";
}

/** Hints that turn relay error codes into something a person can act on. */
const HINTS: Record<string, string> = {
  AUTH_ERROR:
    "The relay refused the token. Use a PULL token for exactly this stream id that has not expired: bin/token -action PULL -stream ID -secret PULL_SECRET.",
  CONNECTION_FAILED: "Cannot reach the relay. Check the relay URL; the player keeps retrying.",
  TIMEOUT: "The relay did not answer in time; the player keeps retrying.",
  UNAVAILABLE: "The relay cannot look the stream up right now (its registry is unreachable); the player keeps retrying.",
  PROTOCOL_ERROR: "The relay closed the connection because of a protocol error.",
  MESSAGE_TOO_LARGE: "A fragment was larger than this player accepts.",
  MEDIA_ERROR: "The browser could not play the media.",
  NOT_FOUND: "The relay has no stream with this id. Check the id, and that a publisher is sending it.",
  NO_STREAM: "The relay has no stream with this id (it answered the request with an empty stream). Check the id, and that a publisher is sending it.",
};

const TITLES: Record<string, string> = {
  AUTH_ERROR: "Not allowed",
  CONNECTION_FAILED: "Relay unreachable",
  TIMEOUT: "No answer",
  UNAVAILABLE: "Stream source unavailable",
  NOT_FOUND: "No such stream",
  NO_STREAM: "No such stream",
  MEDIA_ERROR: "Playback error",
  INVALID: "Check the settings",
};

/** Shows a problem above the stats: red when playback stopped, amber while the player retries. */
export function showProblem(p: Problem): void {
  const box = byId("alert");
  box.hidden = false;
  box.dataset.level = p.fatal ? "error" : "warn";
  box.dataset.code = p.code;
  setText("alert-title", `${TITLES[p.code] ?? "Error"} (${p.code})`);
  const hint = HINTS[p.code];
  setText("alert-text", hint ? `${hint} ${detailOf(p)}` : detailOf(p));
}

/** Hides the problem box; `onlyWarnings` keeps a fatal one. */
export function clearProblem(onlyWarnings = false): void {
  const box = byId("alert");
  if (onlyWarnings && box.dataset.level === "error") return;
  box.hidden = true;
}

function detailOf(p: Problem): string {
  return p.message.replace(/^hlsrelay: /, "");
}

/** Adds a line to the event log (newest first, at most 100). */
export function logLine(text: string, error = false): void {
  const list = byId("log");
  const li = document.createElement("li");
  if (error) li.className = "error";
  const t = document.createElement("time");
  t.textContent = new Date().toTimeString().slice(0, 8);
  const s = document.createElement("span");
  s.textContent = text;
  li.append(t, s);
  list.prepend(li);
  while (list.children.length > 100) list.lastElementChild?.remove();
}

/** A line of the latency chart. */
export interface ChartSeries {
  label: string;
  color: string;
}

/** A latency chart: one line per series over the last `windowSeconds`, and a dashed target line. */
export class LatencyChart {
  private points: Array<{ t: number; v: Array<number | null> }> = [];
  private series: ChartSeries[] = [{ label: "latency", color: "#4cc2ff" }];
  private target = 2;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly windowSeconds = 60,
  ) {}

  /** Sets the lines and the target (seconds), clears the chart and writes the legend into `legend`. */
  configure(series: ChartSeries[], target: number, legend: HTMLElement): void {
    this.series = series;
    this.target = target;
    legend.replaceChildren();
    const item = (label: string, color: string, dashed: boolean): void => {
      const swatch = document.createElement("i");
      swatch.className = dashed ? "swatch target" : "swatch";
      swatch.style.background = color;
      legend.append(swatch, document.createTextNode(label));
    };
    for (const s of series) item(s.label, s.color, false);
    item(`${target} s`, TARGET_COLOR, true);
    this.clear();
  }

  /** Adds one reading per series (null: none now). */
  add(values: Array<number | null>): void {
    const now = performance.now();
    if (values.some((v) => v !== null && Number.isFinite(v))) this.points.push({ t: now, v: values });
    const oldest = now - this.windowSeconds * 1000;
    while (this.points.length > 0 && (this.points[0]?.t ?? now) < oldest) this.points.shift();
    this.draw(now);
  }

  clear(): void {
    this.points = [];
    this.draw(performance.now());
  }

  private draw(now: number): void {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * ratio));
    const h = Math.max(1, Math.round(c.clientHeight * ratio));
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const g = c.getContext("2d");
    if (!g) return;
    g.clearRect(0, 0, w, h);
    let top = this.target * 1.5;
    for (const p of this.points) for (const v of p.v) if (v !== null && Number.isFinite(v)) top = Math.max(top, v * 1.1);
    const step = top <= 1.5 ? 0.25 : top <= 4 ? 0.5 : 1;
    const y = (v: number): number => h - (v / top) * (h - 8 * ratio) - 4 * ratio;
    const x = (t: number): number => w - ((now - t) / (this.windowSeconds * 1000)) * w;
    g.lineWidth = ratio;
    g.strokeStyle = "#2a3340";
    g.fillStyle = "#8b98a8";
    g.font = `${11 * ratio}px system-ui, sans-serif`;
    for (let v = step; v < top; v += step) {
      g.beginPath();
      g.moveTo(0, y(v));
      g.lineTo(w, y(v));
      g.stroke();
      g.fillText(`${Number(v.toFixed(2))} s`, 4 * ratio, y(v) - 3 * ratio);
    }
    g.setLineDash([6 * ratio, 4 * ratio]);
    g.strokeStyle = TARGET_COLOR;
    g.beginPath();
    g.moveTo(0, y(this.target));
    g.lineTo(w, y(this.target));
    g.stroke();
    g.setLineDash([]);
    g.lineWidth = 2 * ratio;
    this.series.forEach((s, i) => {
      g.strokeStyle = s.color;
      g.beginPath();
      let drawing = false;
      for (const p of this.points) {
        const v = p.v[i];
        if (v === null || v === undefined || !Number.isFinite(v)) {
          drawing = false;
          continue;
        }
        if (drawing) g.lineTo(x(p.t), y(v));
        else g.moveTo(x(p.t), y(v));
        drawing = true;
      }
      g.stroke();
    });
  }
}

const TARGET_COLOR = "#d29922";
