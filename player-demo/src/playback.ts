import Hls from "hls.js";
import type { ErrorData, FragLoadedData } from "hls.js";
import { attach, lowLatencyHlsConfig, type Player } from "hlsrelay";
import { hlsPlaylistUrl, type DemoSettings, type Transport } from "./settings";

/** Where the connection to the relay is, as the page shows it. */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "ended" | "failed";

/** A problem to show the person. `fatal`: playback stopped and will not recover by itself. */
export interface Problem {
  code: string;
  message: string;
  fatal: boolean;
}

/** What a playback reports to the page. */
export interface PlaybackHandlers {
  state(state: ConnectionState, detail: string): void;
  problem(p: Problem): void;
  /** A line for the page's event log. */
  log(line: string): void;
  /** hls.js loaded a fragment of `bytes` that plays for `seconds`. */
  fragment(bytes: number, seconds: number): void;
  /** hls.js reported a fatal error (recorded before any recovery). */
  hlsFatal(type: string, details: string): void;
}

/** A stream playing in the page's `<video>`. */
export interface Playback {
  readonly transport: Transport;
  /** The hls.js instance (null when the browser plays HLS natively). */
  readonly hls: Hls | null;
  /** The publish time (Unix ms) of media time `t` of the video: its fragment's program date-time plus the offset into it. */
  pdtAt(t: number): number | null;
  /** hls.js's distance to the live edge of the playlist, in seconds. */
  edgeLatency(): number | null;
  /** Connections the relay accepted (WebSocket), and how many of the later ones resumed without a gap. */
  readonly opens: number;
  readonly resumes: number;
  destroy(): void;
}

/** Plays `s` in `video`: over the relay's WebSocket through the SDK, or its HLS over HTTP with plain hls.js. */
export function startPlayback(video: HTMLVideoElement, s: DemoSettings, h: PlaybackHandlers): Playback {
  return s.transport === "hls" ? new HttpPlayback(video, s, h) : new WebSocketPlayback(video, s, h);
}

/** Codes after which the SDK's client stops (see RelayError). */
const STOPPING_CODES = ["AUTH_ERROR", "PROTOCOL_ERROR", "MESSAGE_TOO_LARGE", "MEDIA_ERROR"];

class WebSocketPlayback implements Playback {
  readonly transport: Transport = "ws";
  opens = 0;
  resumes = 0;
  private readonly player: Player;
  private fragments = 0;

  constructor(
    private readonly video: HTMLVideoElement,
    s: DemoSettings,
    h: PlaybackHandlers,
  ) {
    h.state("connecting", s.relay);
    this.player = attach(video, {
      url: s.relay,
      stream: s.stream,
      token: s.token,
      latencyIntervalMs: 0,
      hlsConfig: s.debug ? { debug: true } : {},
    });
    const p = this.player;
    p.on("open", (info) => {
      this.opens++;
      if (info.resumed) this.resumes++;
      const how = !info.reconnect ? "" : info.resumed ? "resumed without a gap" : "reconnected";
      h.state("live", how);
      h.log(info.reconnect ? `reconnected to the relay (${info.resumed ? "resumed after the last fragment" : "new position"})` : `connected to ${s.relay}${info.ext ? "" : " (base protocol)"}`);
    });
    p.on("discontinuity", (d) => h.log(`discontinuity before fragment ${d.seq} (${d.reason})`));
    p.on("error", (e) => h.problem({ code: e.code, message: e.message, fatal: STOPPING_CODES.includes(e.code) }));
    p.on("ended", () => {
      h.state("ended", this.fragments === 0 ? "no such stream" : "");
      h.log(this.fragments === 0 ? "the relay has no such stream (it answered OK, then CLOSE)" : "the stream ended");
    });
    const client = p.client;
    if (client) {
      // Whether the relay accepted, or explained (E), the connection that just closed.
      let answered = false;
      client.on("open", () => (answered = true));
      client.on("error", () => (answered = true));
      client.on("fragment", () => this.fragments++);
      client.on("close", (c) => {
        if (c.willReconnect) {
          h.state("reconnecting", `connection closed (${c.code}${c.reason ? " " + c.reason : ""})`);
          if (!answered) {
            h.problem({ code: "CONNECTION_FAILED", message: `cannot connect to ${s.relay} (close code ${c.code}); retrying`, fatal: false });
          }
        } else if (client.state === "closed" && this.fragments > 0) {
          h.log("connection closed");
        }
        answered = false;
      });
    }
    if (p.hls) watchHls(p.hls, h);
    else h.log("this browser has no MSE: playing the relay's HLS over HTTP natively");
  }

  get hls(): Hls | null {
    return this.player.hls;
  }

  pdtAt(t: number): number | null {
    return this.player.hls ? pdtFromPlaylist(this.player.hls, t) : nativePdt(this.video, t);
  }

  edgeLatency(): number | null {
    return this.player.latency().edge;
  }

  destroy(): void {
    this.player.destroy();
  }
}

class HttpPlayback implements Playback {
  readonly transport: Transport = "hls";
  readonly hls: Hls;
  readonly opens = 0;
  readonly resumes = 0;

  constructor(video: HTMLVideoElement, s: DemoSettings, h: PlaybackHandlers) {
    const url = hlsPlaylistUrl(s);
    h.state("connecting", url.replace(/token=[^&]*/, "token=…"));
    // The same low-latency settings as the SDK's player; the relay's playlist blocks
    // (CAN-BLOCK-RELOAD) until the next segment exists.
    const hls = new Hls({ ...lowLatencyHlsConfig(1), debug: s.debug });
    this.hls = hls;
    watchHls(hls, h);
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      h.state("live", "HLS over HTTP");
      h.log(`playing ${url.replace(/token=[^&]*/, "token=…")}`);
      void video.play()?.catch(() => undefined);
    });
    hls.on(Hls.Events.LEVEL_UPDATED, (_e, data) => {
      if (!data.details.live) h.state("ended", "");
    });
    hls.attachMedia(video);
    hls.loadSource(url);
  }

  pdtAt(t: number): number | null {
    return pdtFromPlaylist(this.hls, t);
  }

  edgeLatency(): number | null {
    const l = this.hls.latency;
    return Number.isFinite(l) && l > 0 ? l : null;
  }

  destroy(): void {
    this.hls.destroy();
  }
}

/** Reports hls.js's fragments and errors to the page. */
function watchHls(hls: Hls, h: PlaybackHandlers): void {
  hls.on(Hls.Events.FRAG_LOADED, (_e: unknown, data: FragLoadedData) => {
    const bytes = data.frag.stats.total || data.payload.byteLength;
    h.fragment(bytes, data.frag.duration);
  });
  hls.on(Hls.Events.ERROR, (_e: unknown, data: ErrorData) => {
    const type = String(data.type);
    const details = String(data.details);
    if (!data.fatal) {
      h.log(`hls.js: ${details}${type === "networkError" ? " (retrying)" : ""}`);
      return;
    }
    h.hlsFatal(type, details);
    h.problem(describeHlsError(data));
  });
}

/** A fatal hls.js error in words; HTTP answers of the relay's HLS output get their meaning. */
function describeHlsError(data: ErrorData): Problem {
  const status = data.response?.code;
  const details = String(data.details);
  if (status === 401 || status === 403) {
    return { code: "AUTH_ERROR", message: `the relay refused the token (HTTP ${status})`, fatal: true };
  }
  if (status === 404) {
    return { code: "NOT_FOUND", message: "the relay has no such stream (HTTP 404)", fatal: true };
  }
  if (status !== undefined && status !== 0) {
    return { code: "HTTP_ERROR", message: `hls.js: ${details} (HTTP ${status})`, fatal: true };
  }
  return { code: "MEDIA_ERROR", message: `hls.js: ${details}${data.error ? `: ${data.error.message}` : ""}`, fatal: true };
}

/**
 * The program date-time of media time `t`: the fragment of the playing level that
 * holds `t` (by hls.js's start, aligned with the parsed timestamps), its
 * `EXT-X-PROGRAM-DATE-TIME` plus the offset of `t` into it.
 */
function pdtFromPlaylist(hls: Hls, t: number): number | null {
  const level = hls.levels[hls.currentLevel] ?? hls.levels[0];
  const fragments = level?.details?.fragments ?? [];
  for (let i = fragments.length - 1; i >= 0; i--) {
    const f = fragments[i];
    if (!f || f.programDateTime === null) continue;
    if (t >= f.start - 0.001 && t < f.start + f.duration + 0.001) return f.programDateTime + (t - f.start) * 1000;
  }
  return null;
}

/** With native HLS (Safari): the playlist's first program date-time plus the media time. */
function nativePdt(video: HTMLVideoElement, t: number): number | null {
  const start = (video as HTMLVideoElement & { getStartDate?: () => Date }).getStartDate?.().getTime();
  return start !== undefined && Number.isFinite(start) && start > 0 ? start + t * 1000 : null;
}
