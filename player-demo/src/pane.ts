import type { DirectStats } from "hlsrelay";
import { PlaybackMeter } from "./meter";
import { startPlayback, type ConnectionState, type Playback, type Problem } from "./playback";
import { MODE_LABELS, streamFor, type DemoSettings, type PlayMode } from "./settings";
import { RollingBitrate, formatSeconds, summarize, type Summary } from "./stats";

export type PaneState = ConnectionState | "idle" | "stopped";

/** One player of the page, as `window.hlsrelayDemo.panes[i]` shows it to scripts and tests. */
export interface PaneProbe {
  /** How it plays (null before the first Play). */
  readonly mode: PlayMode | null;
  readonly stream: string;
  /** What plays, as far as the page can tell: "hls.js, whole fragments", "hls.js, LL-HLS parts", "direct (MSE parts)", ... */
  readonly playing: string;
  /** Why the direct mode handed over to hls.js, if it did. */
  readonly fallback: string | null;
  readonly state: PaneState;
  /** Milliseconds from navigation start to its first frame on screen. */
  readonly firstFrameMs: number | null;
  /** Times playback stopped for lack of data after the first frame, and for how long in all. */
  readonly stalls: number;
  readonly stalledMs: number;
  /** Seeks after the first frame (catching up with the live edge). */
  readonly seeks: number;
  /** Fragments and parts hls.js loaded (direct mode: received). */
  readonly fragments: number;
  readonly parts: number;
  /** WebSocket connections the relay accepted, and the reconnections that resumed without a gap. */
  readonly opens: number;
  readonly resumes: number;
  /** The direct mode's counters (its latency controller's included). */
  readonly direct: DirectStats | null;
  /** Glass-to-glass latency of each frame on screen since the last reset, in seconds (none in the direct mode). */
  latencySamples(): number[];
  latencySummary(): Summary | null;
  /** Relay-to-screen latency of each frame on screen since the last reset, in seconds. */
  relaySamples(): number[];
  relaySummary(): Summary | null;
  resetLatency(): void;
}

/** What a pane reports to the page. */
export interface PaneHost {
  /** Its connection state changed. */
  changed(): void;
  problem(p: Problem): void;
  log(line: string): void;
  hlsFatal(type: string, details: string): void;
}

/** The newest readings summarised on screen: 30 s at 30 frames per second. */
const RECENT = 900;

/** A `<video>` of the page with its playback, its meter and its own readouts (the `data-k` elements of `root`). */
export class Pane {
  mode: PlayMode | null = null;
  stream = "";
  state: PaneState = "idle";
  detail = "";
  playback: Playback | null = null;
  meter: PlaybackMeter | null = null;
  bitrate = new RollingBitrate();
  fragments = 0;
  parts = 0;
  reconnects = 0;
  /** The part of a label each log line and problem starts with ("" for the only pane). */
  private prefix = "";

  constructor(
    readonly root: HTMLElement,
    readonly video: HTMLVideoElement,
    private readonly host: PaneHost,
  ) {
    video.muted = true; // browsers play muted video without a click
  }

  /** Plays `mode` of `s`; throws when the browser cannot play at all. */
  start(s: DemoSettings, mode: PlayMode, prefix: string): void {
    this.stop("idle");
    const { stream, token } = streamFor(s, mode);
    this.mode = mode;
    this.stream = stream;
    this.prefix = prefix;
    this.fragments = 0;
    this.parts = 0;
    this.reconnects = 0;
    this.bitrate = new RollingBitrate();
    let noStream = false;
    this.playback = startPlayback(
      this.video,
      { relay: s.relay, stream, token, transport: s.transport, mode, debug: s.debug },
      {
        state: (st, detail) => {
          if (st === "ended" && detail === "no such stream") {
            noStream = true;
            this.problem({ code: "NO_STREAM", message: `stream "${stream}" is not on this relay`, fatal: true });
            return;
          }
          if (!(noStream && st === "ended")) this.setState(st, detail);
        },
        problem: (p) => this.problem(p),
        log: (line) => this.host.log(this.prefix + line),
        media: (bytes, seconds, part) => {
          if (part) this.parts++;
          else this.fragments++;
          this.bitrate.add(bytes, seconds);
        },
        hlsFatal: (type, details) => this.host.hlsFatal(type, details),
      },
    );
    this.meter = new PlaybackMeter(this.video, this.playback);
    this.set("title", MODE_LABELS[mode]);
  }

  stop(next: PaneState = "stopped"): void {
    this.meter?.destroy();
    this.playback?.destroy();
    this.meter = null;
    this.playback = null;
    this.setState(next, "");
  }

  /** A fatal problem shown before playback could start. */
  failed(p: Problem): void {
    this.problem(p);
  }

  /** Playing now: live, and the video is not paused. */
  get live(): boolean {
    return this.state === "live" && !this.video.paused;
  }

  /** The newest readings: relay to screen and glass to glass, in seconds, while live. */
  latest(): { relay: number | null; glass: number | null } {
    const m = this.meter;
    return this.live && m ? { relay: m.latestRelay, glass: m.latest } : { relay: null, glass: null };
  }

  /** Summaries of the last 30 s. */
  recent(): { relay: Summary | null; glass: Summary | null } {
    const r = this.meter?.recent(RECENT);
    return { relay: r ? summarize(r.relay) : null, glass: r ? summarize(r.glass) : null };
  }

  /** Updates the pane's own readouts. */
  refresh(): void {
    const p = this.playback;
    const m = this.meter;
    const now = this.latest();
    const recent = this.recent();
    // What plays, when it is not what the mode says (a fallback, a stream not in parts), and the stream.
    const playing = p?.describe() ?? "";
    const mode = this.mode ? MODE_LABELS[this.mode] : "";
    this.set("what", p ? (playing === mode || playing === "hls.js" ? this.stream : `${playing} · ${this.stream}`) : "");
    this.set("badge", now.relay !== null ? `${now.relay.toFixed(2)} s` : now.glass !== null ? `${now.glass.toFixed(2)} s g2g` : "–");
    this.get("live").hidden = this.state !== "live";
    this.set("relay", formatSeconds(now.relay));
    this.set("relay-summary", recent.relay ? `${recent.relay.median.toFixed(2)} · ${recent.relay.p95.toFixed(2)} s` : "–");
    this.set("buffer", p ? formatSeconds(bufferedAhead(this.video)) : "–");
    this.set("first", m?.firstFrameMs != null ? `${Math.round(m.firstFrameMs)} ms` : "–");
    this.set("stalls", m ? stallText(m.stalls, m.stalledMs) : "–");
    this.set("rate", p ? `${this.video.playbackRate.toFixed(2)}×` : "–");
  }

  probe(): PaneProbe {
    const pane = this;
    return {
      get mode() {
        return pane.mode;
      },
      get stream() {
        return pane.stream;
      },
      get playing() {
        return pane.playback?.describe() ?? "";
      },
      get fallback() {
        return pane.playback?.fallback ?? null;
      },
      get state() {
        return pane.state;
      },
      get firstFrameMs() {
        return pane.meter?.firstFrameMs ?? null;
      },
      get stalls() {
        return pane.meter?.stalls ?? 0;
      },
      get stalledMs() {
        return pane.meter?.stalledMs ?? 0;
      },
      get seeks() {
        return pane.meter?.seeks ?? 0;
      },
      get fragments() {
        return pane.fragments;
      },
      get parts() {
        return pane.parts;
      },
      get opens() {
        return pane.playback?.opens ?? 0;
      },
      get resumes() {
        return pane.playback?.resumes ?? 0;
      },
      get direct() {
        return pane.playback?.directStats() ?? null;
      },
      latencySamples: () => pane.meter?.latencySamples() ?? [],
      latencySummary: () => summarize(pane.meter?.latencySamples() ?? []),
      relaySamples: () => pane.meter?.relaySamples() ?? [],
      relaySummary: () => summarize(pane.meter?.relaySamples() ?? []),
      resetLatency: () => pane.meter?.resetSamples(),
    };
  }

  private problem(p: Problem): void {
    const message = this.prefix ? `${this.prefix}${p.message.replace(/^hlsrelay: /, "")}` : p.message;
    this.host.problem({ ...p, message });
    if (p.fatal) this.setState("failed", p.code);
  }

  private setState(s: PaneState, detail: string): void {
    if (s === "reconnecting" && this.state !== "reconnecting") this.reconnects++;
    this.state = s;
    this.detail = detail;
    this.host.changed();
  }

  private get(k: string): HTMLElement {
    const el = this.root.querySelector<HTMLElement>(`[data-k="${k}"]`);
    if (!el) throw new Error(`player demo: [data-k="${k}"] is missing from #${this.root.id}`);
    return el;
  }

  private set(k: string, text: string): void {
    const el = this.get(k);
    if (el.textContent !== text) el.textContent = text;
  }
}

/** "0", or "2 (1.4 s)": stalls and the time spent in them. */
export function stallText(stalls: number, stalledMs: number): string {
  return `${stalls}${stalls > 0 ? ` (${(stalledMs / 1000).toFixed(1)} s)` : ""}`;
}

/** Media buffered ahead of the playhead, in seconds. */
export function bufferedAhead(v: HTMLVideoElement): number {
  const b = v.buffered;
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= v.currentTime + 0.1 && v.currentTime < b.end(i)) return b.end(i) - v.currentTime;
  }
  return 0;
}
