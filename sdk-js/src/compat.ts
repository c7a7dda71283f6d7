/**
 * The browser client API of the HLS WebSocket CDN, on top of this SDK: existing players
 * switch by changing the import (`hlsrelay/compat`) or the script tag (global
 * `HlsWebSocketCdn`). hls.js plays the stream through the relay loaders.
 * @module
 */
import type Hls from "hls.js";
import type { ErrorData, HlsConfig } from "hls.js";
import { RelayClient } from "./client";
import { RelayError } from "./errors";
import { defaultHls } from "./hls-default";
import { lowLatencyHlsConfig } from "./hls-config";
import { createLoaders } from "./loader";
import { FragmentStore } from "./store";

export { RelayError } from "./errors";

/** Options of {@link HlsWebSocket}, as in the HLS WebSocket CDN client. */
export interface HlsWebSocketCdnClientOptions {
  /** The relay's WebSocket URL. */
  cdnServerUrl: string;
  /** The stream id. */
  streamId: string;
  /** The PULL token. */
  authToken: string;
  /** Desired delay behind live, in seconds. Defaults to 30. */
  delay?: number;
  /** Seek back to `delay` when further behind than this, in seconds. Defaults to `delay + 1`. */
  maxDelay?: number;
  /** Media kept behind the playhead, in seconds. Defaults to twice `maxDelay`. */
  maxBufferDuration?: number;
  /** Fragments kept in memory (with `maxFragmentQueueLength`: the larger of the two). Defaults to 32. */
  maxSegmentQueueLength?: number;
  /** Fragments the relay sends first from its buffer. Defaults to all it has. */
  maxInitialFragments?: number;
  /** Fragments kept in memory (with `maxSegmentQueueLength`: the larger of the two). Defaults to 32. */
  maxFragmentQueueLength?: number;
  /** Time to wait for the relay to accept the stream, in ms. Defaults to 30000. */
  timeout?: number;
  /** Log what happens with `console.debug`. */
  debug?: boolean;
}

/** Events of {@link HlsWebSocket}, with their listeners. */
export type HlsWebSocketEventMap = {
  /** An error: from the relay (a {@link RelayError} with its code), the connection or the player. */
  error: (error: Error) => void;
  /** The connection to the relay closed (the client reconnects 1 s later unless the stream ended). */
  close: () => void;
  /** The stream ended and everything received has been played out. */
  ended: () => void;
};

type Listeners = { [K in keyof HlsWebSocketEventMap]: Array<HlsWebSocketEventMap[K]> };

/**
 * Plays a stream pulled from a relay, with the HLS WebSocket CDN client's API.
 *
 * ```js
 * const hls = new HlsWebSocket({ cdnServerUrl, streamId, authToken });
 * hls.start();
 * hls.attachMedia(video);
 * ```
 */
export class HlsWebSocket {
  /** Whether this browser can play the stream (Media Source Extensions and hls.js). */
  static isSupported(): boolean {
    const H = defaultHls();
    return !!H && H.isSupported();
  }

  private readonly options: HlsWebSocketCdnClientOptions;
  private readonly client: RelayClient;
  private readonly store: FragmentStore;
  private readonly hls: Hls;
  private listeners: Listeners = { error: [], close: [], ended: [] };
  private started = false;
  private streamEnded = false;
  private destroyed = false;

  /**
   * @param options the client options
   * @param hlsConfig hls.js settings applied over this client's (loaders excepted)
   */
  constructor(options: HlsWebSocketCdnClientOptions, hlsConfig?: Partial<HlsConfig>) {
    const HlsCtor = defaultHls();
    if (!HlsCtor) throw new Error("HlsWebSocket: hls.js is not loaded (load its script before calling)");
    this.options = { ...options };
    const delay = options.delay ?? 30;
    const maxDelay = Math.max(delay, options.maxDelay ?? delay + 1);
    const window = Math.max(options.maxSegmentQueueLength ?? 32, options.maxFragmentQueueLength ?? 32, 1);
    this.store = new FragmentStore({ window, initialFragments: window });
    this.client = new RelayClient({
      url: options.cdnServerUrl,
      stream: options.streamId,
      token: options.authToken,
      maxInitialFragments: options.maxInitialFragments,
      openTimeoutMs: options.timeout ?? 30_000,
      reconnect: { minDelayMs: 1000, maxDelayMs: 1000, factor: 1, jitter: 0 },
    });
    this.hls = new HlsCtor({
      ...lowLatencyHlsConfig(1),
      liveSyncDuration: delay,
      liveMaxLatencyDuration: maxDelay,
      maxBufferLength: Math.max(3, maxDelay),
      backBufferLength: options.maxBufferDuration ?? 2 * maxDelay,
      debug: false,
      ...hlsConfig,
      ...createLoaders(this.store),
    });
    this.wire(HlsCtor);
  }

  /** Connects to the relay and starts pulling the stream. */
  start(): void {
    if (this.started || this.destroyed) return;
    this.started = true;
    this.client.start();
  }

  /** Plays the stream in `media`. */
  attachMedia(media: HTMLMediaElement): void {
    this.hls.attachMedia(media);
  }

  /** Stops playing in the attached element; the stream keeps being received. */
  detachMedia(): void {
    this.hls.detachMedia();
  }

  /**
   * Changes the delay behind live, in seconds: playback is kept `delay` behind and jumps
   * back to it when more than `maxDelay` behind (default `delay + 1`).
   */
  setDelayOptions(delay: number, maxDelay?: number): void {
    const max = Math.max(delay, maxDelay ?? delay + 1);
    this.options.delay = delay;
    this.options.maxDelay = max;
    // hls.js reads these at every playlist update: changing them takes effect live.
    const config = this.hls.config;
    config.liveSyncDuration = delay;
    config.liveMaxLatencyDuration = max;
  }

  /** Adds an event listener. */
  addEventListener<K extends keyof HlsWebSocketEventMap>(name: K, handler: HlsWebSocketEventMap[K]): void {
    this.listeners[name].push(handler);
  }

  /** Removes an event listener added with `addEventListener`. */
  removeEventListener<K extends keyof HlsWebSocketEventMap>(name: K, handler: HlsWebSocketEventMap[K]): void {
    const list: Array<HlsWebSocketEventMap[K]> = this.listeners[name];
    const i = list.indexOf(handler);
    if (i >= 0) list.splice(i, 1);
  }

  /** Closes the connection, stops playback and releases everything. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.listeners = { error: [], close: [], ended: [] };
    this.client.destroy();
    this.hls.destroy();
    this.store.clear();
  }

  private wire(HlsCtor: typeof Hls): void {
    const { client, store, hls } = this;
    client.on("open", (info) => this.log(`pulling ${this.options.streamId} (ext=${info.ext}, resumed=${info.resumed})`));
    client.on("fragment", (f) => store.add(f));
    client.on("error", (err) => {
      this.log(`error ${err.code}: ${err.message}`);
      this.trigger("error", err);
    });
    client.on("close", (info) => {
      this.log(`connection closed (${info.code}${info.willReconnect ? ", reconnecting in 1 s" : ""})`);
      this.trigger("close");
    });
    client.on("ended", () => {
      this.streamEnded = true;
      store.end();
      if (!hls.media) this.trigger("ended");
    });
    store.once("fragment", () => hls.loadSource(store.playlistUrl));
    hls.on(HlsCtor.Events.BUFFER_EOS, () => {
      if (this.streamEnded) this.trigger("ended");
    });
    hls.on(HlsCtor.Events.ERROR, (_event: unknown, data: ErrorData) => {
      if (!data.fatal) return;
      if (String(data.type) === "mediaError") {
        hls.recoverMediaError();
        return;
      }
      this.trigger("error", new RelayError("MEDIA_ERROR", `hls.js: ${String(data.details)}`));
    });
  }

  private trigger<K extends keyof HlsWebSocketEventMap>(name: K, ...args: Parameters<HlsWebSocketEventMap[K]>): void {
    for (const handler of this.listeners[name].slice()) {
      try {
        (handler as (...a: Parameters<HlsWebSocketEventMap[K]>) => void)(...args);
      } catch (err) {
        console.error(err);
      }
    }
  }

  private log(msg: string): void {
    if (this.options.debug) console.debug(`[HlsWebSocket] ${msg}`);
  }
}
