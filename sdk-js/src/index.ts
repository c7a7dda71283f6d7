/**
 * hlsrelay: play low-latency live streams from an hlsrelay relay (or any relay of the
 * HLS WebSocket CDN protocol) with hls.js.
 *
 * - {@link attach}: one call plays a stream in a `<video>`.
 * - {@link RelayClient}: the WebSocket pull client alone.
 * - {@link FragmentStore} and {@link createLoaders}: the hls.js integration, to build your own player.
 * - {@link DirectPlayer}: a stream in parts (fMP4/CMAF) straight to Media Source Extensions,
 *   for sub-second latency (`attach(video, { mode: "direct" })`).
 * @module
 */
export { attach, isSupported } from "./player";
export type { AttachMode, AttachOptions, HlsClass, LatencyReading, Player, PlayerEvents, PlayerMode } from "./player";
export { DirectPlayer } from "./direct/player";
export type {
  DirectFallbackReason,
  DirectPlayerEvents,
  DirectPlayerOptions,
  DirectSource,
  DirectSourceEvents,
  DirectStats,
} from "./direct/player";
export { LatencyController } from "./direct/controller";
export type { ControlledMedia, ControllerAction, ControllerStats, LatencyControllerOptions } from "./direct/controller";
export { parseInit } from "./direct/mp4";
export type { InitInfo, TrackInfo } from "./direct/mp4";
export { RelayClient, toWebSocketURL } from "./client";
export type {
  DiscontinuityReason,
  Fragment,
  InitSegment,
  Part,
  ReconnectOptions,
  RelayClientEvents,
  RelayClientOptions,
  RelayClientState,
  RelayClientStats,
  WebSocketConstructor,
} from "./client";
export { FragmentStore, feedStore } from "./store";
export type { FragmentStoreEvents, FragmentStoreOptions, StoredFragment, StoredPart } from "./store";
export { createLoaders, newLoaderStats } from "./loader";
export type { RelayLoaders } from "./loader";
export { lowLatencyHlsConfig, lowLatencyPartsHlsConfig, PART_HOLD_BACK_PARTS } from "./hls-config";
export { defaultFallbackUrl } from "./fallback";
export type { FallbackInfo } from "./fallback";
export { RelayError } from "./errors";
export type { RelayErrorCode } from "./errors";
export type { EventMap, Listener } from "./emitter";
export { Emitter } from "./emitter";
