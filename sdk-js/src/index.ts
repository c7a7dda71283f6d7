/**
 * hlsrelay: play low-latency live streams from an hlsrelay relay (or any relay of the
 * HLS WebSocket CDN protocol) with hls.js.
 *
 * - {@link attach}: one call plays a stream in a `<video>`.
 * - {@link RelayClient}: the WebSocket pull client alone.
 * - {@link FragmentStore} and {@link createLoaders}: the hls.js integration, to build your own player.
 * @module
 */
export { attach, isSupported } from "./player";
export type { AttachOptions, HlsClass, LatencyReading, Player, PlayerEvents, PlayerMode } from "./player";
export { RelayClient, toWebSocketURL } from "./client";
export type {
  DiscontinuityReason,
  Fragment,
  ReconnectOptions,
  RelayClientEvents,
  RelayClientOptions,
  RelayClientState,
  RelayClientStats,
  WebSocketConstructor,
} from "./client";
export { FragmentStore } from "./store";
export type { FragmentStoreEvents, FragmentStoreOptions, StoredFragment } from "./store";
export { createLoaders, newLoaderStats } from "./loader";
export type { RelayLoaders } from "./loader";
export { lowLatencyHlsConfig } from "./hls-config";
export { defaultFallbackUrl } from "./fallback";
export type { FallbackInfo } from "./fallback";
export { RelayError } from "./errors";
export type { RelayErrorCode } from "./errors";
export type { EventMap, Listener } from "./emitter";
export { Emitter } from "./emitter";
