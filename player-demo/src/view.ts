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

/** A latency chart: one point per reading over the last `windowSeconds`, and the 2 s target line. */
export class LatencyChart {
  private points: Array<{ t: number; v: number }> = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly windowSeconds = 60,
  ) {}

  add(value: number | null): void {
    const now = performance.now();
    if (value !== null && Number.isFinite(value)) this.points.push({ t: now, v: value });
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
    const top = Math.max(3, ...this.points.map((p) => p.v)) * 1.1;
    const y = (v: number): number => h - (v / top) * (h - 8 * ratio) - 4 * ratio;
    const x = (t: number): number => w - ((now - t) / (this.windowSeconds * 1000)) * w;
    g.lineWidth = ratio;
    g.strokeStyle = "#2a3340";
    g.fillStyle = "#8b98a8";
    g.font = `${11 * ratio}px system-ui, sans-serif`;
    for (let v = 1; v < top; v++) {
      g.beginPath();
      g.moveTo(0, y(v));
      g.lineTo(w, y(v));
      g.stroke();
      g.fillText(`${v} s`, 4 * ratio, y(v) - 3 * ratio);
    }
    g.setLineDash([6 * ratio, 4 * ratio]);
    g.strokeStyle = "#d29922";
    g.beginPath();
    g.moveTo(0, y(2));
    g.lineTo(w, y(2));
    g.stroke();
    g.setLineDash([]);
    if (this.points.length < 2) return;
    g.strokeStyle = "#4cc2ff";
    g.lineWidth = 2 * ratio;
    g.beginPath();
    this.points.forEach((p, i) => (i === 0 ? g.moveTo(x(p.t), y(p.v)) : g.lineTo(x(p.t), y(p.v))));
    g.stroke();
  }
}
