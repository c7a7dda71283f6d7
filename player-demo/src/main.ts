/**
 * The player demo page: plays an hlsrelay stream in a `<video>` through the SDK and
 * hls.js, and shows what a viewer gets: glass-to-glass latency, buffer, bitrate, the
 * connection's state, and every problem in words.
 *
 * The page's address holds what it plays: `?stream=ID&token=PULL_TOKEN`, optionally
 * `&relay=ws://host:port/` (default: the relay that served the page) and
 * `&transport=hls` (the relay's HLS over HTTP instead of its WebSocket).
 */
import { PlaybackMeter } from "./meter";
import { startPlayback, type ConnectionState, type Playback, type Problem } from "./playback";
import { checkSettings, readSettings, settingsSearch, type DemoSettings, type Transport } from "./settings";
import { RollingBitrate, formatBitrate, formatSeconds, summarize, type Summary } from "./stats";
import { LatencyChart, byId, clearProblem, logLine, setText, showProblem, showState } from "./view";

/**
 * What the page exposes as `window.hlsrelayDemo`, for browser tests and for the
 * curious in the console.
 */
export interface DemoProbe {
  readonly settings: DemoSettings;
  readonly state: ConnectionState | "idle" | "stopped";
  /** Every problem shown, oldest first. */
  readonly problems: Problem[];
  /** Fatal hls.js errors, as hls.js reported them (before any recovery). */
  readonly hlsFatal: Array<{ type: string; details: string }>;
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
  resetLatency(): void;
}

const video = byId<HTMLVideoElement>("video");
const form = byId<HTMLFormElement>("picker");
const chart = new LatencyChart(byId<HTMLCanvasElement>("chart"));

let playback: Playback | null = null;
let meter: PlaybackMeter | null = null;
let bitrate = new RollingBitrate();
let state: DemoProbe["state"] = "idle";
let fragments = 0;
let reconnects = 0;
const problems: Problem[] = [];
const hlsFatal: Array<{ type: string; details: string }> = [];
let settings = readSettings(window.location);

function setState(s: DemoProbe["state"], detail: string): void {
  if (s === "reconnecting" && state !== "reconnecting") reconnects++;
  state = s;
  showState(s, detail);
  if (s === "live") clearProblem(true);
}

function problem(p: Problem): void {
  problems.push(p);
  showProblem(p);
  logLine(`${p.code}: ${p.message.replace(/^hlsrelay: /, "")}`, true);
  if (p.fatal) setState("failed", p.code);
}

function fillForm(s: DemoSettings): void {
  byId<HTMLInputElement>("in-stream").value = s.stream;
  byId<HTMLInputElement>("in-relay").value = s.relay;
  byId<HTMLInputElement>("in-token").value = s.token;
  const radio = form.querySelector<HTMLInputElement>(`input[name="transport"][value="${s.transport}"]`);
  if (radio) radio.checked = true;
}

function readForm(): DemoSettings {
  const data = new FormData(form);
  const text = (k: string): string => String(data.get(k) ?? "").trim();
  return {
    stream: text("stream"),
    relay: text("relay"),
    token: text("token"),
    transport: (text("transport") || "ws") as Transport,
    debug: settings.debug,
  };
}

function stop(next: DemoProbe["state"] = "stopped"): void {
  meter?.destroy();
  playback?.destroy();
  meter = null;
  playback = null;
  setState(next, "");
}

function play(s: DemoSettings): void {
  stop("idle");
  clearProblem();
  const invalid = checkSettings(s);
  if (invalid) {
    problem({ code: "INVALID", message: invalid, fatal: true });
    return;
  }
  settings = s;
  fragments = 0;
  reconnects = 0;
  bitrate = new RollingBitrate();
  chart.clear();
  setText("fact-transport", s.transport === "hls" ? "HLS over HTTP" : "WebSocket (hlsrelay SDK)");
  let noStream = false;
  try {
    playback = startPlayback(video, s, {
      state: (st, detail) => {
        if (st === "ended" && detail === "no such stream") {
          noStream = true;
          problem({ code: "NO_STREAM", message: `stream "${s.stream}" is not on this relay`, fatal: true });
          return;
        }
        if (!(noStream && st === "ended")) setState(st, detail);
      },
      problem,
      log: (line) => logLine(line),
      fragment: (bytes, seconds) => {
        fragments++;
        bitrate.add(bytes, seconds);
      },
      hlsFatal: (type, details) => hlsFatal.push({ type, details }),
    });
  } catch (err) {
    problem({ code: "MEDIA_ERROR", message: String(err instanceof Error ? err.message : err), fatal: true });
    return;
  }
  const p = playback;
  meter = new PlaybackMeter(video, (t) => p.pdtAt(t));
}

function refresh(): void {
  const m = meter;
  const p = playback;
  const glass = m?.latest ?? null;
  const live = state === "live" && !video.paused;
  setText("stat-latency", live ? formatSeconds(glass) : "–");
  setText("badge-latency", live && glass !== null ? `${glass.toFixed(2)} s behind` : "–");
  // The last 30 s at 30 frames per second.
  const recent = m ? summarize(m.latencySamples().slice(-900)) : null;
  setText(
    "stat-latency-hint",
    recent ? `median ${recent.median.toFixed(2)} s · p95 ${recent.p95.toFixed(2)} s (last ${Math.round(recent.count / 30)} s)` : "now minus the publish time of the frame on screen",
  );
  setText("stat-buffer", p ? formatSeconds(bufferedAhead(video)) : "–");
  setText("stat-bitrate", p ? formatBitrate(bitrate.bitsPerSecond) : "–");
  setText("stat-edge", p ? formatSeconds(p.edgeLatency()) : "–");
  setText("stat-first", m?.firstFrameMs != null ? `${Math.round(m.firstFrameMs)} ms` : "–");
  setText("stat-stalls", m ? `${m.stalls}${m.stalls > 0 ? ` (${(m.stalledMs / 1000).toFixed(1)} s)` : ""}` : "–");
  setText("stat-picture", video.videoWidth > 0 ? `${video.videoWidth}×${video.videoHeight}` : "–");
  setText("fact-fragments", String(fragments));
  setText("fact-reconnects", String(reconnects));
  setText("fact-rate", p ? `${video.playbackRate.toFixed(2)}×` : "–");
  const q = typeof video.getVideoPlaybackQuality === "function" ? video.getVideoPlaybackQuality() : null;
  setText("fact-dropped", q ? `${q.droppedVideoFrames} of ${q.totalVideoFrames}` : "–");
  if (live) chart.add(glass);
}

function bufferedAhead(v: HTMLVideoElement): number {
  const b = v.buffered;
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= v.currentTime + 0.1 && v.currentTime < b.end(i)) return b.end(i) - v.currentTime;
  }
  return 0;
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const s = readForm();
  history.replaceState(null, "", settingsSearch(s, window.location) + window.location.hash);
  play(s);
});
byId("stop").addEventListener("click", () => stop());
byId("alert-close").addEventListener("click", () => clearProblem());

const probe: DemoProbe = {
  get settings() {
    return settings;
  },
  get state() {
    return state;
  },
  problems,
  hlsFatal,
  get firstFrameMs() {
    return meter?.firstFrameMs ?? null;
  },
  get stalls() {
    return meter?.stalls ?? 0;
  },
  get stalledMs() {
    return meter?.stalledMs ?? 0;
  },
  get seeks() {
    return meter?.seeks ?? 0;
  },
  get fragments() {
    return fragments;
  },
  get opens() {
    return playback?.opens ?? 0;
  },
  get resumes() {
    return playback?.resumes ?? 0;
  },
  latencySamples: () => meter?.latencySamples() ?? [],
  latencySummary: () => summarize(meter?.latencySamples() ?? []),
  resetLatency: () => meter?.resetSamples(),
};
(window as unknown as { hlsrelayDemo: DemoProbe }).hlsrelayDemo = probe;

video.muted = true; // browsers play muted video without a click
fillForm(settings);
setInterval(refresh, 250);
if (settings.stream !== "") play(settings);
else logLine("enter a stream id and a PULL token, then Play");
