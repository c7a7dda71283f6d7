/**
 * The player demo page: plays an hlsrelay stream through the SDK in one of its
 * low-latency modes, or two of them side by side, and shows what a viewer gets:
 * relay-to-screen and glass-to-glass latency, buffer, bitrate, the connection's state,
 * and every problem in words.
 *
 * The page's address holds what it plays: `?stream=ID&token=PULL_TOKEN`, optionally
 * `&mode=fragments|parts|direct|compare`, `&fragments_stream=ID&fragments_token=T` (what
 * the `fragments` mode plays), `&relay=ws://host:port/` (default: the relay that served
 * the page) and `&transport=hls` (the relay's HLS over HTTP instead of its WebSocket).
 */
import { Pane, bufferedAhead, stallText, type PaneHost, type PaneProbe, type PaneState } from "./pane";
import type { Problem } from "./playback";
import {
  MODE_LABELS,
  checkSettings,
  modePanes,
  readSettings,
  settingsSearch,
  type DemoSettings,
  type Mode,
  type Transport,
} from "./settings";
import { formatBitrate, formatSeconds, summarize, type Summary } from "./stats";
import { LatencyChart, byId, clearProblem, logLine, setText, showProblem, showState, type ChartSeries } from "./view";

/**
 * What the page exposes as `window.hlsrelayDemo`, for browser tests and for the
 * curious in the console. The figures at the top level are those of the first player
 * (the only one, except in the compare view); `panes` has each player's.
 */
export interface DemoProbe {
  readonly settings: DemoSettings;
  readonly mode: Mode;
  /** The worst state of the players: failed, reconnecting, connecting, ended, live. */
  readonly state: PaneState;
  /** Every problem shown, oldest first. */
  readonly problems: Problem[];
  /** Fatal hls.js errors, as hls.js reported them (before any recovery). */
  readonly hlsFatal: Array<{ type: string; details: string }>;
  /** The players shown, left to right. */
  readonly panes: PaneProbe[];
  /** Milliseconds from navigation start to the first frame on screen. */
  readonly firstFrameMs: number | null;
  readonly stalls: number;
  readonly stalledMs: number;
  readonly seeks: number;
  readonly fragments: number;
  /** WebSocket connections the relay accepted, and the reconnections that resumed without a gap. */
  readonly opens: number;
  readonly resumes: number;
  /** Glass-to-glass latency of each frame on screen since the last reset, in seconds. */
  latencySamples(): number[];
  latencySummary(): Summary | null;
  /** Relay-to-screen latency of each frame on screen since the last reset, in seconds. */
  relaySamples(): number[];
  relaySummary(): Summary | null;
  /** Starts a new measurement window in every player. */
  resetLatency(): void;
}

const form = byId<HTMLFormElement>("picker");
const chart = new LatencyChart(byId<HTMLCanvasElement>("chart"));

const problems: Problem[] = [];
const hlsFatal: Array<{ type: string; details: string }> = [];
let settings = readSettings(window.location);
/** The page's own state when no player runs (idle, stopped, or failed before playing). */
let pageState: PaneState = "idle";

const panes = [new Pane(byId("pane-0"), byId<HTMLVideoElement>("video"), host()), new Pane(byId("pane-1"), byId<HTMLVideoElement>("video-2"), host())];
/** The panes playing now. */
let active: Pane[] = [];

function host(): PaneHost {
  return {
    changed: () => updateState(),
    problem: (p) => problem(p),
    log: (line) => logLine(line),
    hlsFatal: (type, details) => hlsFatal.push({ type, details }),
  };
}

const RANK: Record<PaneState, number> = { failed: 0, reconnecting: 1, connecting: 2, ended: 3, live: 4, idle: 5, stopped: 6 };

/** The page's state: the worst of its players'. */
function currentState(): { state: PaneState; detail: string } {
  if (active.length === 0) return { state: pageState, detail: "" };
  let worst = active[0] as Pane;
  for (const p of active) if (RANK[p.state] < RANK[worst.state]) worst = p;
  const detail = active.length > 1 ? active.map((p) => `${p.mode ?? ""}: ${p.state}${p.detail ? ` (${p.detail})` : ""}`).join(" · ") : worst.detail;
  return { state: worst.state, detail };
}

function updateState(): void {
  const { state, detail } = currentState();
  showState(state, detail);
  if (state === "live") clearProblem(true);
}

function problem(p: Problem): void {
  problems.push(p);
  showProblem(p);
  logLine(`${p.code}: ${p.message.replace(/^hlsrelay: /, "")}`, true);
}

function fillForm(s: DemoSettings): void {
  byId<HTMLInputElement>("in-stream").value = s.stream;
  byId<HTMLInputElement>("in-token").value = s.token;
  byId<HTMLInputElement>("in-fstream").value = s.fragmentsStream;
  byId<HTMLInputElement>("in-ftoken").value = s.fragmentsToken;
  byId<HTMLInputElement>("in-relay").value = s.relay;
  checkRadio("transport", s.transport);
  checkRadio("mode", s.mode);
}

function checkRadio(name: string, value: string): void {
  const radio = document.querySelector<HTMLInputElement>(`input[name="${name}"][value="${value}"]`);
  if (radio) radio.checked = true;
}

function readForm(): DemoSettings {
  const data = new FormData(form);
  const text = (k: string): string => String(data.get(k) ?? "").trim();
  return {
    stream: text("stream"),
    token: text("token"),
    fragmentsStream: text("fragments_stream"),
    fragmentsToken: text("fragments_token"),
    relay: text("relay"),
    mode: (text("mode") || "fragments") as Mode,
    transport: (text("transport") || "ws") as Transport,
    debug: settings.debug,
  };
}

/** What each mode does, under the mode choice. */
const MODE_NOTES: Record<Mode, string> = {
  fragments:
    "hls.js plays whole fragments from a playlist the SDK writes as they arrive over the WebSocket: a fragment (1 s in the sample) can only play once it is complete.",
  parts:
    "hls.js plays the stream's parts (200 ms in the sample) as LL-HLS: the SDK lists each part in the playlist the moment it arrives.",
  direct:
    "The SDK appends each part to Media Source Extensions the moment it arrives, without hls.js; a latency controller holds the playhead a few hundred milliseconds behind the newest part.",
  compare: "The same stream in parts, played by hls.js (LL-HLS, left) and by the direct mode (MSE, right) at the same time.",
};

const COLORS = ["#4cc2ff", "#c678dd"];
const GLASS_COLOR = "#3fb950";

function layout(mode: Mode): void {
  const compare = mode === "compare";
  document.body.dataset.mode = mode;
  byId("screens").dataset.count = compare ? "2" : "1";
  (panes[1] as Pane).root.hidden = !compare;
  setText("mode-note", MODE_NOTES[mode]);
  checkRadio("mode", mode);
  const series: ChartSeries[] = compare
    ? modePanes(mode).map((m, i) => ({ label: `${MODE_LABELS[m]}, relay to screen`, color: COLORS[i] ?? "#fff" }))
    : [
        { label: "relay to screen", color: COLORS[0] ?? "#fff" },
        { label: "glass to glass", color: GLASS_COLOR },
      ];
  chart.configure(series, mode === "fragments" ? 2 : 1, byId("chart-legend"));
}

function stop(next: PaneState = "stopped"): void {
  for (const p of panes) p.stop(next);
  active = [];
  pageState = next;
  updateState();
}

function play(s: DemoSettings): void {
  stop("idle");
  clearProblem();
  settings = s;
  layout(s.mode);
  const invalid = checkSettings(s);
  if (invalid) {
    problem({ code: "INVALID", message: invalid, fatal: true });
    pageState = "failed";
    updateState();
    return;
  }
  setText("fact-transport", s.transport === "hls" ? "HLS over HTTP" : "WebSocket (hlsrelay SDK)");
  const modes = modePanes(s.mode);
  active = modes.map((_, i) => panes[i] as Pane);
  modes.forEach((m, i) => {
    const pane = panes[i] as Pane;
    try {
      pane.start(s, m, modes.length > 1 ? `${MODE_LABELS[m]}: ` : "");
    } catch (err) {
      pane.failed({ code: "MEDIA_ERROR", message: String(err instanceof Error ? err.message : err), fatal: true });
    }
  });
  updateState();
}

function refresh(): void {
  for (const p of active) p.refresh();
  const first = active[0];
  const now = first?.latest() ?? { relay: null, glass: null };
  const recent = first?.recent() ?? { relay: null, glass: null };
  const pb = first?.playback ?? null;
  const m = first?.meter ?? null;
  const video = (panes[0] as Pane).video;
  setText("stat-relay", formatSeconds(now.relay));
  setText("stat-relay-hint", recent.relay ? hint(recent.relay) : "now minus the time the relay received the part on screen");
  setText("stat-latency", formatSeconds(now.glass));
  setText("stat-latency-hint", recent.glass ? hint(recent.glass) : "now minus the publish time of the frame on screen");
  setText("stat-buffer", pb ? formatSeconds(bufferedAhead(video)) : "–");
  setText("stat-bitrate", pb ? formatBitrate(first?.bitrate.bitsPerSecond ?? null) : "–");
  setText("stat-edge", pb ? formatSeconds(pb.edgeLatency()) : "–");
  setText("stat-first", m?.firstFrameMs != null ? `${Math.round(m.firstFrameMs)} ms` : "–");
  setText("stat-stalls", m ? stallText(m.stalls, m.stalledMs) : "–");
  setText("stat-picture", video.videoWidth > 0 ? `${video.videoWidth}×${video.videoHeight}` : "–");
  const each = (f: (p: Pane) => string): string => (active.length > 0 ? active.map(f).join(" | ") : "–");
  setText("fact-player", each((p) => p.playback?.describe() ?? "–"));
  setText("fact-fragments", each((p) => `${p.fragments}${p.parts > 0 ? ` (${p.parts})` : ""}`));
  setText("fact-reconnects", active.length > 0 ? each((p) => String(p.reconnects)) : "0");
  setText("fact-rate", each((p) => (p.playback ? `${p.video.playbackRate.toFixed(2)}×` : "–")));
  setText("fact-dropped", each((p) => dropped(p.video)));
  if (active.some((p) => p.live)) {
    chart.add(active.length > 1 ? active.map((p) => p.latest().relay) : [now.relay, now.glass]);
  }
}

/** The median and 95th percentile of the last 30 s, at 30 frames per second. */
function hint(s: Summary): string {
  return `median ${s.median.toFixed(2)} s · p95 ${s.p95.toFixed(2)} s (last ${Math.round(s.count / 30)} s)`;
}

function dropped(v: HTMLVideoElement): string {
  const q = typeof v.getVideoPlaybackQuality === "function" ? v.getVideoPlaybackQuality() : null;
  return q ? `${q.droppedVideoFrames} of ${q.totalVideoFrames}` : "–";
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const s = readForm();
  history.replaceState(null, "", settingsSearch(s, window.location) + window.location.hash);
  play(s);
});
// A mode takes effect at once, on the streams in the form.
byId("modes").addEventListener("change", () => form.requestSubmit());
byId("stop").addEventListener("click", () => stop());
byId("alert-close").addEventListener("click", () => clearProblem());

const firstProbe = (panes[0] as Pane).probe();
const probe: DemoProbe = {
  get settings() {
    return settings;
  },
  get mode() {
    return settings.mode;
  },
  get state() {
    return currentState().state;
  },
  problems,
  hlsFatal,
  get panes() {
    return active.map((p) => p.probe());
  },
  get firstFrameMs() {
    return firstProbe.firstFrameMs;
  },
  get stalls() {
    return firstProbe.stalls;
  },
  get stalledMs() {
    return firstProbe.stalledMs;
  },
  get seeks() {
    return firstProbe.seeks;
  },
  get fragments() {
    return firstProbe.fragments;
  },
  get opens() {
    return firstProbe.opens;
  },
  get resumes() {
    return firstProbe.resumes;
  },
  latencySamples: () => firstProbe.latencySamples(),
  latencySummary: () => summarize(firstProbe.latencySamples()),
  relaySamples: () => firstProbe.relaySamples(),
  relaySummary: () => summarize(firstProbe.relaySamples()),
  resetLatency: () => {
    for (const p of active) p.meter?.resetSamples();
  },
};
(window as unknown as { hlsrelayDemo: DemoProbe }).hlsrelayDemo = probe;

fillForm(settings);
layout(settings.mode);
setInterval(refresh, 250);
if (settings.stream !== "") play(settings);
else logLine("enter a stream id and a PULL token, then Play");
