import type Hls from "hls.js";
import type { ErrorData, HlsConfig } from "hls.js";
import { RelayClient, type DiscontinuityReason, type Fragment, type RelayClientOptions } from "./client";
import { Emitter } from "./emitter";
import { RelayError } from "./errors";
import { defaultFallbackUrl, type FallbackInfo } from "./fallback";
import { defaultHls } from "./hls-default";
import { durationDependentKeys, lowLatencyHlsConfig } from "./hls-config";
import { createLoaders } from "./loader";
import { FragmentStore, type FragmentStoreOptions } from "./store";

/** The hls.js class. */
export type HlsClass = typeof Hls;

/**
 * Options of {@link attach}: those of {@link RelayClientOptions} (`maxInitialFragments`
 * defaults to 3 here: the first playlist lists only the newest fragments), and these.
 */
export interface AttachOptions extends RelayClientOptions {
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

/** A latency reading, in seconds. */
export interface LatencyReading {
  /** Glass-to-glass: now minus the program date-time (publish time) of the frame on screen; null before playback. */
  glass: number | null;
  /** Distance from the live edge of the playlist (hls.js `latency`); null if unknown. */
  edge: number | null;
  /** Media buffered ahead of the playhead. */
  buffer: number;
  /** The video's playback rate (hls.js speeds up to catch up). */
  playbackRate: number;
}

/** Events of {@link Player}. */
export type PlayerEvents = {
  /** The relay accepted the stream (after each reconnect too). */
  open: [info: { ext: boolean; epoch: string; resumed: boolean; reconnect: boolean }];
  /** A discontinuity in the received stream. */
  discontinuity: [info: { seq: number; epoch: string; reason: DiscontinuityReason }];
  /** An error from the relay or the connection (the client goes on unless it is fatal), or a fatal hls.js error (`MEDIA_ERROR`). */
  error: [error: RelayError];
  /** The stream ended (the relay sent `CLOSE`). */
  ended: [];
  /** A latency reading, every `latencyIntervalMs` while playing. */
  latency: [reading: LatencyReading];
};

/** How a {@link Player} plays: hls.js on MSE, or the browser's own HLS. */
export type PlayerMode = "mse" | "native";

/** A stream playing in a `<video>`, returned by {@link attach}. */
export interface Player {
  readonly mode: PlayerMode;
  readonly video: HTMLVideoElement;
  /** The hls.js instance (mse mode). */
  readonly hls: Hls | null;
  /** The WebSocket client (mse mode). */
  readonly client: RelayClient | null;
  /** The fragment store behind the playlist (mse mode). */
  readonly store: FragmentStore | null;
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
 * Plays a relay stream in `video` with low-latency hls.js settings: pulls it over a
 * WebSocket (reconnecting and resuming), keeps the newest fragments in memory and serves
 * hls.js a live playlist from them. Without MSE it falls back to the browser's native
 * HLS at `fallbackUrl`.
 *
 * ```ts
 * const player = attach(video, { url: "wss://relay.example/", stream: "room1/cam", token });
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

class RelayPlayer extends Emitter<PlayerEvents> implements Player {
  readonly mode: PlayerMode;
  hls: Hls | null = null;
  client: RelayClient | null = null;
  store: FragmentStore | null = null;
  private destroyed = false;
  private latencyTimer: ReturnType<typeof setInterval> | undefined;
  private cleanups: Array<() => void> = [];

  constructor(
    readonly video: HTMLVideoElement,
    private readonly options: AttachOptions,
  ) {
    super();
    const HlsCtor = options.Hls ?? defaultHls();
    if (HlsCtor && HlsCtor.isSupported()) {
      this.mode = "mse";
      this.startMse(HlsCtor);
    } else if (options.fallbackUrl !== false && canPlayNativeHls(video)) {
      this.mode = "native";
      void this.startNative();
    } else {
      throw new RelayError("MEDIA_ERROR", HlsCtor ? "neither MSE nor native HLS is available" : "hls.js is not loaded");
    }
    const interval = options.latencyIntervalMs ?? 1000;
    if (interval > 0) {
      this.latencyTimer = setInterval(() => {
        if (!this.video.paused) this.emit("latency", this.latency());
      }, interval);
    }
  }

  latency(): LatencyReading {
    const v = this.video;
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
    this.hls?.destroy();
    this.store?.clear();
    if (this.mode === "native") {
      this.video.removeAttribute("src");
      this.video.load();
    }
    this.hls = null;
    this.client = null;
    this.store = null;
    this.removeAllListeners();
  }

  private startMse(HlsCtor: HlsClass): void {
    const o = this.options;
    const store = new FragmentStore(o.store);
    // Only the newest fragments of the relay's backlog are played: do not fetch the rest.
    const initial = o.maxInitialFragments ?? DEFAULT_INITIAL_FRAGMENTS;
    const client = new RelayClient({ ...o, maxInitialFragments: initial });
    const user = o.hlsConfig ?? {};
    const hls = new HlsCtor({ ...lowLatencyHlsConfig(1), ...user, ...createLoaders(store) });
    this.store = store;
    this.client = client;
    this.hls = hls;

    client.on("open", (info) => this.emit("open", info));
    client.on("discontinuity", (info) => this.emit("discontinuity", info));
    client.on("error", (err) => this.emit("error", err));
    client.on("fragment", (f) => store.add(f));
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
      // Fit the latency settings to the real fragment duration, then load.
      const tuned = lowLatencyHlsConfig(newest.duration) as Record<string, unknown>;
      const config = hls.config as unknown as Record<string, unknown>;
      for (const key of durationDependentKeys) {
        if (!(key in user)) config[key] = tuned[key];
      }
      hls.loadSource(store.playlistUrl);
    };
    client.on("fragment", (f) => {
      if (loaded) return;
      received++;
      if (received >= initial || atLiveEdge(f)) {
        load(f);
        return;
      }
      clearTimeout(quiet);
      quiet = setTimeout(() => load(f), BACKLOG_QUIET_MS);
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
