import Hls from "hls.js";
import type { ErrorData, FragLoadedData } from "hls.js";
import { attach, lowLatencyHlsConfig, type DirectStats, type Player, type RelayClient } from "hlsrelay";
import { RelayTimes, relayTimeInPlaylist, type PlaylistDetails } from "./relaytime";
import { hlsPlaylistUrl, type PlayMode, type Transport } from "./settings";

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
  /** Media of `bytes` that plays for `seconds` arrived: a whole fragment, or a part (`part`). */
  media(bytes: number, seconds: number, part: boolean): void;
  /** hls.js reported a fatal error (recorded before any recovery). */
  hlsFatal(type: string, details: string): void;
}

/** What one playback plays. */
export interface PlaybackSettings {
  relay: string;
  stream: string;
  token: string;
  transport: Transport;
  mode: PlayMode;
  debug: boolean;
}

/** A stream playing in a `<video>`. */
export interface Playback {
  readonly transport: Transport;
  /** The hls.js instance (null in the direct mode, or when the browser plays HLS natively). */
  readonly hls: Hls | null;
  /** The SDK's player (WebSocket transport). */
  readonly player: Player | null;
  /** The publish time (Unix ms) of media time `t` of the video: its fragment's program date-time plus the offset into it. */
  pdtAt(t: number): number | null;
  /**
   * When the relay received the media at media time `t` (Unix ms): the `time` of the part
   * holding it, or of its fragment when it came whole. Null when unknown (HLS over HTTP).
   */
  relayTimeAt(t: number): number | null;
  /** hls.js's distance to the live edge of the playlist (direct mode: newest media appended minus the playhead), in seconds. */
  edgeLatency(): number | null;
  /** What plays, in words: "hls.js, LL-HLS parts", "direct (MSE parts)", ... */
  describe(): string;
  /** The direct mode's counters (latency controller included). */
  directStats(): DirectStats | null;
  /** Why the direct mode handed over to hls.js, if it did. */
  readonly fallback: string | null;
  /** Connections the relay accepted (WebSocket), and how many of the later ones resumed without a gap. */
  readonly opens: number;
  readonly resumes: number;
  destroy(): void;
}

/** Plays a stream in `video`: over the relay's WebSocket through the SDK, or its HLS over HTTP with plain hls.js. */
export function startPlayback(video: HTMLVideoElement, s: PlaybackSettings, h: PlaybackHandlers): Playback {
  // The direct mode reads parts from the WebSocket: there is no HTTP variant.
  return s.transport === "hls" && s.mode !== "direct" ? new HttpPlayback(video, s, h) : new WebSocketPlayback(video, s, h);
}

/** Codes after which the SDK's client stops (see RelayError). */
const STOPPING_CODES = ["AUTH_ERROR", "PROTOCOL_ERROR", "MESSAGE_TOO_LARGE", "MEDIA_ERROR"];

class WebSocketPlayback implements Playback {
  readonly transport: Transport = "ws";
  opens = 0;
  resumes = 0;
  fallback: string | null = null;
  readonly player: Player;
  /** The relay's time of each part and fragment received, for the hls.js modes' lookups. */
  private readonly times = new RelayTimes();
  private received = 0;
  private watchedClient: RelayClient | null = null;
  private watchedHls: Hls | null = null;

  constructor(
    private readonly video: HTMLVideoElement,
    s: PlaybackSettings,
    private readonly h: PlaybackHandlers,
  ) {
    h.state("connecting", s.relay);
    if (s.transport === "hls") h.log("the direct mode plays from the WebSocket (it has no HTTP variant)");
    this.player = attach(video, {
      url: s.relay,
      stream: s.stream,
      token: s.token,
      mode: s.mode === "direct" ? "direct" : "hls",
      latencyIntervalMs: 0,
      hlsConfig: s.debug ? { debug: true } : {},
    });
    const p = this.player;
    p.on("open", (info) => {
      this.opens++;
      if (info.resumed) this.resumes++;
      const how = !info.reconnect ? "" : info.resumed ? "resumed without a gap" : "reconnected";
      h.state("live", how);
      const base = info.ext ? "" : " (base protocol)";
      const parts = info.ext && !info.parts && s.mode !== "fragments" ? " (the relay sends whole fragments only: no parts)" : "";
      h.log(info.reconnect ? `reconnected to the relay (${info.resumed ? "resumed after the last fragment" : "new position"})` : `connected to ${s.relay}${base}${parts}`);
    });
    p.on("discontinuity", (d) => h.log(`discontinuity before fragment ${d.seq} (${d.reason})`));
    p.on("error", (e) => h.problem({ code: e.code, message: e.message, fatal: STOPPING_CODES.includes(e.code) }));
    p.on("ended", () => {
      h.state("ended", this.received === 0 ? "no such stream" : "");
      h.log(this.received === 0 ? "the relay has no such stream (it answered OK, then CLOSE)" : "the stream ended");
    });
    p.on("fallback", (f) => {
      this.fallback = `${f.reason}: ${f.detail}`;
      h.log(`the direct mode cannot play this stream (${f.detail}): ${f.mode === "mse" ? "hls.js plays it" : "the browser's HLS plays it"}`);
      this.watch();
    });
    this.watch();
    if (!p.hls && !p.direct) h.log("this browser has no MSE: playing the relay's HLS over HTTP natively");
  }

  /** Listens to the player's client and hls.js (again after a fallback from the direct mode, which replaces both). */
  private watch(): void {
    const h = this.h;
    const p = this.player;
    const client = p.client;
    if (client && client !== this.watchedClient) {
      this.watchedClient = client;
      this.times.clear();
      // Whether the relay accepted, or explained (E), the connection that just closed.
      let answered = false;
      const mine = (): boolean => this.watchedClient === client;
      client.on("open", () => (answered = true));
      client.on("error", () => (answered = true));
      client.on("part", (part) => {
        if (!mine()) return;
        this.received++;
        this.times.addPart(part);
        if (p.direct) h.media(part.data.byteLength, part.duration, true);
      });
      client.on("fragment", (f) => {
        if (!mine()) return;
        this.received++;
        this.times.addFragment(f);
        // The direct mode reports what arrived (a fragment received in parts: its parts
        // did already); hls.js reports what it loaded.
        if (!p.direct) return;
        const whole = f.parts === undefined;
        h.media(whole ? f.data.byteLength : 0, whole ? f.duration : 0, false);
      });
      client.on("close", (c) => {
        if (!mine()) return;
        if (c.willReconnect) {
          h.state("reconnecting", `connection closed (${c.code}${c.reason ? " " + c.reason : ""})`);
          if (!answered) {
            h.problem({ code: "CONNECTION_FAILED", message: `cannot connect to the relay (close code ${c.code}); retrying`, fatal: false });
          }
        } else if (client.state === "closed" && this.received > 0) {
          h.log("connection closed");
        }
        answered = false;
      });
    }
    if (p.hls && p.hls !== this.watchedHls) {
      this.watchedHls = p.hls;
      watchHls(p.hls, h);
    }
  }

  get hls(): Hls | null {
    return this.player.hls;
  }

  pdtAt(t: number): number | null {
    if (this.player.direct) return null;
    return this.player.hls ? pdtFromPlaylist(this.player.hls, t) : nativePdt(this.video, t);
  }

  relayTimeAt(t: number): number | null {
    const direct = this.player.direct;
    if (direct) return direct.timeline.at(t)?.time ?? null;
    const hls = this.player.hls;
    return hls ? relayTimeInPlaylist(levelDetails(hls), this.times, t) : null;
  }

  edgeLatency(): number | null {
    return this.player.latency().edge;
  }

  describe(): string {
    const p = this.player;
    if (p.mode === "direct") return "direct (MSE parts)";
    if (p.mode === "native") return "the browser's HLS (no MSE)";
    const store = p.store;
    if (!store || store.size === 0) return store?.lowLatency ? "hls.js, LL-HLS parts" : "hls.js";
    return store.lowLatency ? "hls.js, LL-HLS parts" : "hls.js, whole fragments";
  }

  directStats(): DirectStats | null {
    return this.player.direct?.stats ?? null;
  }

  destroy(): void {
    this.watchedClient = null;
    this.player.destroy();
  }
}

class HttpPlayback implements Playback {
  readonly transport: Transport = "hls";
  readonly hls: Hls;
  readonly player = null;
  readonly fallback = null;
  readonly opens = 0;
  readonly resumes = 0;

  constructor(video: HTMLVideoElement, s: PlaybackSettings, h: PlaybackHandlers) {
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

  relayTimeAt(): number | null {
    return null;
  }

  edgeLatency(): number | null {
    const l = this.hls.latency;
    return Number.isFinite(l) && l > 0 ? l : null;
  }

  describe(): string {
    return levelDetails(this.hls)?.partList ? "hls.js alone, HLS over HTTP (LL-HLS parts)" : "hls.js alone, HLS over HTTP";
  }

  directStats(): null {
    return null;
  }

  destroy(): void {
    this.hls.destroy();
  }
}

/** Reports hls.js's fragments, parts and errors to the page. */
function watchHls(hls: Hls, h: PlaybackHandlers): void {
  hls.on(Hls.Events.FRAG_LOADED, (_e: unknown, data: FragLoadedData) => {
    const bytes = (data.part ?? data.frag).stats.total || data.payload.byteLength;
    h.media(bytes, data.part ? data.part.duration : data.frag.duration, data.part !== null);
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

/** The playlist of the level hls.js plays. */
function levelDetails(hls: Hls): (PlaylistDetails & { partList?: unknown }) | undefined {
  const level = hls.levels[hls.currentLevel] ?? hls.levels[0];
  return level?.details;
}

/**
 * The program date-time of media time `t`: the fragment of the playing level that
 * holds `t` (by hls.js's start, aligned with the parsed timestamps), its
 * `EXT-X-PROGRAM-DATE-TIME` plus the offset of `t` into it.
 */
function pdtFromPlaylist(hls: Hls, t: number): number | null {
  const level = hls.levels[hls.currentLevel] ?? hls.levels[0];
  const details = level?.details;
  const fragments = details?.fragments ?? [];
  const hint = details?.fragmentHint;
  // LL-HLS: the fragment being received is listed by its parts only.
  const all = hint ? [...fragments, hint] : fragments;
  for (let i = all.length - 1; i >= 0; i--) {
    const f = all[i];
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
