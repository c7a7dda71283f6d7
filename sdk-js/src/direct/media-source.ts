import type { SourceBufferLike } from "./appender";

/** The part of a `MediaSource` the direct mode uses (a real one, or a stand-in in tests). */
export interface MediaSourceLike {
  readonly readyState: "closed" | "open" | "ended";
  addSourceBuffer(type: string): SourceBufferLike;
  endOfStream(): void;
  addEventListener(type: "sourceopen", listener: () => void): void;
  removeEventListener(type: "sourceopen", listener: () => void): void;
}

/** A `MediaSource` constructor: `MediaSource`, or Safari's `ManagedMediaSource`. */
export interface MediaSourceClass {
  new (): MediaSourceLike;
  isTypeSupported(type: string): boolean;
}

interface MediaSourceGlobals {
  MediaSource?: MediaSourceClass;
  ManagedMediaSource?: MediaSourceClass;
}

/**
 * The browser's `MediaSource`, or `ManagedMediaSource` where only that exists (Safari on
 * iPhone since iOS 17.1); undefined without Media Source Extensions.
 */
export function defaultMediaSource(): MediaSourceClass | undefined {
  const g = globalThis as MediaSourceGlobals;
  const ms = g.MediaSource ?? g.ManagedMediaSource;
  return ms && typeof ms.isTypeSupported === "function" ? ms : undefined;
}

/** Whether `ms` is a `ManagedMediaSource` (it needs `disableRemotePlayback` on the video, or an AirPlay source). */
export function isManaged(ms: MediaSourceClass): boolean {
  const g = globalThis as MediaSourceGlobals;
  return g.ManagedMediaSource !== undefined && ms === g.ManagedMediaSource;
}
