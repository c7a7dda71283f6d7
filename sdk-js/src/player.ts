import type Hls from "hls.js";
import type { ErrorData, HlsConfig } from "hls.js";
import { RelayClient, type DiscontinuityReason, type Fragment, type RelayClientEvents, type RelayClientOptions } from "./client";
import { DirectPlayer, type DirectFallbackReason, type DirectPlayerOptions } from "./direct/player";
import { defaultMediaSource } from "./direct/media-source";
import { Emitter } from "./emitter";
import { RelayError } from "./errors";
import { defaultFallbackUrl, type FallbackInfo } from "./fallback";
import { defaultHls } from "./hls-default";
import { durationDependentKeys, lowLatencyHlsConfig, lowLatencyPartsHlsConfig } from "./hls-config";
import type { LatencyReading } from "./latency";
import { createLoaders } from "./loader";
import { feedStore, FragmentStore, type FragmentStoreOptions } from "./store";

export type { LatencyReading } from "./latency";

/** The hls.js class. */
export type HlsClass = typeof Hls;

/** How {@link attach} plays: hls.js (`"hls"`), or parts appended straight to MSE (`"direct"`). */
export type AttachMode = "hls" | "direct";

/**
 * Options of {@link attach}: those of {@link RelayClientOptions} (`maxInitialFragments`
 * defaults to 3 in hls mode: the first playlist lists only the newest fragments; `parts`
 * defaults to true), and these.
 */
export interface AttachOptions extends RelayClientOptions {
  /**
   * `"hls"` (the default): hls.js plays a live playlist made from the received fragments
   * (LL-HLS for a stream in parts). `"direct"`: the parts of an fMP4/CMAF stream are
   * appended to Media Source Extensions as they arrive, for sub-second latency (see
   * {@link DirectPlayer}); a stream or browser that does not allow it (MPEG-TS, no MSE,
   * unsupported codecs, a relay without parts) is played in hls mode instead, with a
   * `fallback` event.
   */
  mode?: AttachMode;
  /** Direct mode settings: latency controller, back buffer, controller interval. */
  direct?: Omit<DirectPlayerOptions, "autoplay">;
  /**
   * hls.js settings, applied over {@link lowLatencyHlsConfig} (whose duration-dependent
   * values follow the first fragment's duration unless set here). `pLoader` and
   * `fLoader` are always the relay's.
   */
  hlsConfig?: Partial<HlsConfig>;
  /** Fragment store options (window, initial playlist length). */
  store?: FragmentStoreOptions;
  /** The hls.js class. Defaults to the `hls.js` package (the global `Hls` in the script-tag build). */
  Hls?: HlsClass;
  /**
   * Where a browser without MSE but with native HLS (Safari on iPhone) plays from,
   * or `false` for no fallback. Defaults to the relay's HLS-over-HTTP URL
   * (see {@link defaultFallbackUrl}).
   */
  fallbackUrl?: string | ((info: FallbackInfo) => string) | false;
  /** Call `video.play()` once playback can start. Defaults to true (set `video.muted` for autoplay). */
  autoplay?: boolean;
  /** How often the `latency` event fires while playing, in ms; 0 for never. Defaults to 1000. */
  latencyIntervalMs?: number;
}

/** Events of {@link Player}. */
export type PlayerEvents = {
  /** The relay accepted the stream (after each reconnect too). */
  open: RelayClientEvents["open"];
  /** A discontinuity in the received stream. */
  discontinuity: [info: { seq: number; epoch: string; reason: DiscontinuityReason }];
  /** An error from the relay or the connection (the client goes on unless it is fatal), or a fatal hls.js error (`MEDIA_ERROR`). */
  error: [error: RelayError];
  /** The stream ended (the relay sent `CLOSE`). */
  ended: [];
  /** A latency reading, every `latencyIntervalMs` while playing. */
  latency: [reading: LatencyReading];
  /**
   * Direct mode was asked for but cannot play this stream here: the player switched to
   * `mode` (a new connection). Emitted once, asynchronously.
   */
  fallback: [info: { reason: DirectFallbackReason; detail: string; mode: PlayerMode }];
};

/** How a {@link Player} plays: hls.js on MSE, parts straight to MSE, or the browser's own HLS. */
export type PlayerMode = "mse" | "direct" | "native";

/** A stream playing in a `<video>`, returned by {@link attach}. */
export interface Player {
  /** How it plays now: `"direct"` can change to `"mse"` (or `"native"`) on a `fallback`. */
  readonly mode: PlayerMode;
  readonly video: HTMLVideoElement;
  /** The hls.js instance (mse mode). */
  readonly hls: Hls | null;
  /** The WebSocket client (mse and direct modes). */
  readonly client: RelayClient | null;
  /** The fragment store behind the playlist (mse mode). */
  readonly store: FragmentStore | null;
  /** The direct-mode player: stats, latency controller, part timeline (direct mode). */
  readonly direct: DirectPlayer | null;
  /** The latency now. */
  latency(): LatencyReading;
  on<K extends keyof PlayerEvents>(name: K, listener: (...args: PlayerEvents[K]) => void): () => void;
  off<K extends keyof PlayerEvents>(name: K, listener: (...args: PlayerEvents[K]) => void): void;
  /** Stops everything, detaches from the video and releases memory. */
  destroy(): void;
}

/** Whether hls.js can play here (MSE). */
export function isSupported(HlsCtor: HlsClass | undefined = defaultHls()): boolean {
  return !!HlsCtor && HlsCtor.isSupported();
}

/**
 * Plays a relay stream in `video`. In hls mode (the default) with low-latency hls.js
 * settings: pulls it over a WebSocket (reconnecting and resuming), keeps the newest
 * fragments in memory and serves hls.js a live playlist from them; without MSE it falls
 * back to the browser's native HLS at `fallbackUrl`. In direct mode (`mode: "direct"`)
 * the parts of an fMP4/CMAF stream go straight to MSE, for sub-second latency.
 *
 * ```ts
 * const player = attach(video, { url: "wss://relay.example/", stream: "room1/cam", token, mode: "direct" });
 * player.on("latency", (r) => console.log(r.glass));
 * ```
 */
export function attach(video: HTMLVideoElement, options: AttachOptions): Player {
  return new RelayPlayer(video, options);
}

const MAX_MEDIA_RECOVERIES = 3;
const DEFAULT_INITIAL_FRAGMENTS = 3;
/** How long to wait for more of the relay's backlog after a fragment before loading anyway, in ms. */
const BACKLOG_QUIET_MS = 100;
/** A part received within its own duration plus this of its relay time is at the live edge. */
const LIVE_PART_SLACK_MS = 150;

class RelayPlayer extends Emitter<PlayerEvents> implements Player {
  hls: Hls | null = null;
  client: RelayClient | null = null;
  store: FragmentStore | null = null;
  direct: DirectPlayer | null = null;
  private modeValue: PlayerMode = "mse";
  private destroyed = false;
  private latencyTimer: ReturnType<typeof setInterval> | undefined;
  private cleanups: Array<() => void> = [];

  constructor(
    readonly video: HTMLVideoElement,
    private readonly options: AttachOptions,
  ) {
    super();
    if (options.mode === "direct") {
      const MS = options.direct?.MediaSource ?? defaultMediaSource();
      if (MS && DirectPlayer.isSupported(MS)) {
        this.modeValue = "direct";
        this.startDirect();
      } else {
        this.startHls(true);
        const mode = this.modeValue;
        void Promise.resolve().then(() => {
          if (!this.destroyed) this.emit("fallback", { reason: "unsupported", detail: "Media Source Extensions are not available", mode });
        });
      }
    } else {
      this.startHls(true);
    }
    const interval = options.latencyIntervalMs ?? 1000;
    if (interval > 0) {
      this.latencyTimer = setInterval(() => {
        if (!this.video.paused) this.emit("latency", this.latency());
      }, interval);
    }
  }

  get mode(): PlayerMode {
    return this.modeValue;
  }

  latency(): LatencyReading {
    const v = this.video;
    if (this.direct) return this.direct.latency();
    let glass: number | null = null;
    let edge: number | null = null;
    const hls = this.hls;
    if (hls) {
      const date = hls.playingDate;
      if (date) glass = (Date.now() - date.getTime()) / 1000;
      const l = hls.latency;
      edge = Number.isFinite(l) && l > 0 ? l : null;
    } else {
      const start = (v as HTMLVideoElement & { getStartDate?: () => Date }).getStartDate?.();
      const t = start?.getTime();
      if (t !== undefined && Number.isFinite(t) && t > 0) glass = (Date.now() - t) / 1000 - v.currentTime;
    }
    return { glass, edge, buffer: bufferedAhead(v), playbackRate: v.playbackRate };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.latencyTimer);
    for (const c of this.cleanups) c();
    this.cleanups = [];
    this.client?.destroy();
    this.direct?.destroy();
    this.hls?.destroy();
    this.store?.clear();
    if (this.modeValue === "native") {
      this.video.removeAttribute("src");
      this.video.load();
    }
    this.hls = null;
    this.client = null;
    this.direct = null;
    this.store = null;
    this.removeAllListeners();
  }

  /**
   * Starts hls.js on MSE, or else native HLS. `initial`: at construction, where having
   * neither throws; later (a fallback from direct mode) it is an `error` event.
   */
  private startHls(initial: boolean): void {
    const HlsCtor = this.options.Hls ?? defaultHls();
    if (HlsCtor && HlsCtor.isSupported()) {
      this.modeValue = "mse";
      this.startMse(HlsCtor);
    } else if (this.options.fallbackUrl !== false && canPlayNativeHls(this.video)) {
      this.modeValue = "native";
      void this.startNative();
    } else {
      const err = new RelayError("MEDIA_ERROR", HlsCtor ? "neither MSE nor native HLS is available" : "hls.js is not loaded");
      if (initial) throw err;
      this.emit("error", err);
    }
  }

  /** Forwards the client's events that the player re-emits, while `client` is the player's. */
  private forward(client: RelayClient): void {
    const mine = (): boolean => this.client === client && !this.destroyed;
    client.on("open", (info) => mine() && this.emit("open", info));
    client.on("discontinuity", (info) => mine() && this.emit("discontinuity", info));
    client.on("error", (err) => mine() && this.emit("error", err));
  }

  private startDirect(): void {
    const o = this.options;
    // Without max_initial_fragments the relay starts a parts viewer at the latest independent part.
    const client = new RelayClient({ ...o, parts: true });
    this.client = client;
    this.forward(client);
    const direct = new DirectPlayer(this.video, client, { ...o.direct, autoplay: o.autoplay });
    this.direct = direct;
    client.on("ended", () => {
      if (this.client === client && !this.destroyed) this.emit("ended");
    });
    direct.on("error", (err) => this.emit("error", err));
    direct.on("fallback", (info) => {
      // Out of the client's event dispatch: it is destroyed here.
      void Promise.resolve().then(() => this.fallbackFromDirect(direct, info.reason, info.detail));
    });
    client.start();
  }

  /** Direct mode cannot play the stream: hls mode takes over with a new connection. */
  private fallbackFromDirect(direct: DirectPlayer, reason: DirectFallbackReason, detail: string): void {
    if (this.destroyed || this.direct !== direct) return;
    direct.destroy();
    this.direct = null;
    this.client?.destroy();
    this.client = null;
    this.startHls(false);
    this.emit("fallback", { reason, detail, mode: this.modeValue });
  }

  private startMse(HlsCtor: HlsClass): void {
    const o = this.options;
    const store = new FragmentStore(o.store);
    // Only the newest fragments of the relay's backlog are played: do not fetch the rest.
    const initial = o.maxInitialFragments ?? DEFAULT_INITIAL_FRAGMENTS;
    const client = new RelayClient({ ...o, parts: o.parts ?? true, maxInitialFragments: initial });
    const user = o.hlsConfig ?? {};
    const hls = new HlsCtor({ ...lowLatencyHlsConfig(1), ...user, ...createLoaders(store) });
    this.store = store;
    this.client = client;
    this.hls = hls;

    this.forward(client);
    feedStore(client, store);
    client.on("ended", () => {
      store.end();
      this.emit("ended");
    });
    // Load once the relay's backlog is in, so that the first playlist lists its newest
    // fragments: a first playlist that holds only the oldest one starts playback several
    // fragments behind live, and hls.js then jumps ahead (a visible seek) or never
    // catches up. The backlog is in when the requested number of fragments arrived, or
    // one arrived at the live edge (by its publish time), or no other one followed
    // within BACKLOG_QUIET_MS.
    let received = 0;
    let loaded = false;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const load = (newest: Fragment): void => {
      if (loaded || this.destroyed) return;
      loaded = true;
      clearTimeout(quiet);
      // Fit the latency settings to the real fragment (and part) duration, then load.
      const parts = store.lowLatency;
      const tuned = (parts ? lowLatencyPartsHlsConfig(store.partTarget, newest.duration) : lowLatencyHlsConfig(newest.duration)) as Record<string, unknown>;
      const config = hls.config as unknown as Record<string, unknown>;
      for (const key of parts ? Object.keys(tuned) : durationDependentKeys) {
        if (!(key in user)) config[key] = tuned[key];
      }
      hls.loadSource(store.playlistUrl);
    };
    let newest: Fragment | undefined;
    client.on("fragment", (f) => {
      if (loaded) return;
      received++;
      newest = f;
      // In parts, the backlog's last closed fragment is not the live edge: the parts of
      // the fragment being published follow it (below).
      if (!f.parts && (received >= initial || atLiveEdge(f))) {
        load(f);
        return;
      }
      clearTimeout(quiet);
      quiet = setTimeout(() => load(f), BACKLOG_QUIET_MS);
    });
    // In parts: load at the first part that is live (the backlog's parts are older), so
    // that hls.js's first playlist ends at the live edge and it starts PART-HOLD-BACK
    // behind it. Starting from the last closed fragment instead put it up to a fragment
    // further back, where hls.js neither speeds up nor seeks.
    client.on("part", (p) => {
      if (loaded || !newest || p.time === undefined) return;
      if (p.receivedAt - p.time < 1000 * p.duration + LIVE_PART_SLACK_MS) load(newest);
    });
    this.cleanups.push(() => clearTimeout(quiet));

    let recoveries = 0;
    hls.on(HlsCtor.Events.ERROR, (_event: unknown, data: ErrorData) => {
      if (!data.fatal) return;
      if (String(data.type) === "mediaError" && recoveries < MAX_MEDIA_RECOVERIES) {
        recoveries++;
        hls.recoverMediaError();
        return;
      }
      this.emit("error", new RelayError("MEDIA_ERROR", `hls.js: ${String(data.details)}`));
    });
    if (o.autoplay !== false) {
      hls.on(HlsCtor.Events.MANIFEST_PARSED, () => {
        void this.video.play()?.catch(() => undefined);
      });
    }
    hls.attachMedia(this.video);
    client.start();
  }

  private async startNative(): Promise<void> {
    const o = this.options;
    let token = "";
    try {
      token = typeof o.token === "function" ? await o.token() : (o.token ?? "");
    } catch (err) {
      this.emit("error", new RelayError("AUTH_ERROR", `token provider failed: ${String(err)}`));
      return;
    }
    if (this.destroyed) return;
    const info: FallbackInfo = { url: o.url, stream: o.stream, token };
    const f = o.fallbackUrl;
    this.video.src = typeof f === "string" ? f : typeof f === "function" ? f(info) : defaultFallbackUrl(info);
    const onEnded = (): void => this.emit("ended");
    this.video.addEventListener("ended", onEnded);
    this.cleanups.push(() => this.video.removeEventListener("ended", onEnded));
    if (o.autoplay !== false) void this.video.play()?.catch(() => undefined);
  }
}

/**
 * Whether `f` is the newest fragment the publisher has finished: its first frame was
 * published less than two fragment durations before it arrived (a live fragment arrives
 * about one duration after its first frame). False without a publish time.
 */
function atLiveEdge(f: Fragment): boolean {
  return f.time !== undefined && f.receivedAt - f.time < 2000 * f.duration;
}

function canPlayNativeHls(video: HTMLVideoElement): boolean {
  return typeof video.canPlayType === "function" && video.canPlayType("application/vnd.apple.mpegurl") !== "";
}

function bufferedAhead(v: HTMLVideoElement): number {
  const b = v.buffered;
  const t = v.currentTime;
  for (let i = 0; b && i < b.length; i++) {
    if (b.start(i) <= t + 0.1 && t < b.end(i)) return b.end(i) - t;
  }
  return 0;
}
