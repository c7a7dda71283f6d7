import type {
  FragmentLoaderConstructor,
  FragmentLoaderContext,
  HlsConfig,
  Loader,
  LoaderCallbacks,
  LoaderConfiguration,
  LoaderContext,
  LoaderStats,
  PlaylistLoaderConstructor,
  PlaylistLoaderContext,
} from "hls.js";
import { resourceFromUrl } from "./playlist";
import type { FragmentStore } from "./store";

/** The loader classes to pass to hls.js as `pLoader` and `fLoader`. */
export interface RelayLoaders {
  pLoader: PlaylistLoaderConstructor;
  fLoader: FragmentLoaderConstructor;
}

/** A fresh stats object, shaped as hls.js's own `LoadStats`. */
export function newLoaderStats(): LoaderStats {
  return {
    aborted: false,
    loaded: 0,
    retry: 0,
    total: 0,
    chunkCount: 0,
    bwEstimate: 0,
    loading: { start: 0, first: 0, end: 0 },
    parsing: { start: 0, end: 0 },
    buffering: { start: 0, first: 0, end: 0 },
  };
}

/**
 * Shared steps of the two loaders, as hls.js's own loaders do them: `stats` exists from
 * construction; `load` may be called once; the answer is given asynchronously and
 * stamps `loading.first` and `loading.end` when it is given; `abort` calls `onAbort`;
 * after `abort` or `destroy` no callback is called.
 */
abstract class StoreLoader<T extends LoaderContext> implements Loader<T> {
  context: T | null = null;
  stats: LoaderStats = newLoaderStats();
  protected callbacks: LoaderCallbacks<T> | null = null;
  protected config: LoaderConfiguration | null = null;
  private cancel: (() => void) | null = null;

  constructor(
    protected readonly store: FragmentStore,
    _hlsConfig?: HlsConfig,
  ) {}

  load(context: T, config: LoaderConfiguration, callbacks: LoaderCallbacks<T>): void {
    if (this.stats.loading.start) throw new Error("Loader can only be used once.");
    this.stats.loading.start = now();
    this.context = context;
    this.config = config;
    this.callbacks = callbacks;
    this.cancel = this.start(context, config);
  }

  abort(): void {
    const callbacks = this.callbacks;
    const context = this.context;
    this.stop();
    if (!context || !callbacks) return;
    this.stats.aborted = true;
    callbacks.onAbort?.(this.stats, context, null);
  }

  destroy(): void {
    this.stop();
    this.context = null;
  }

  getCacheAge(): number | null {
    return null;
  }

  getResponseHeader(_name: string): string | null {
    return null;
  }

  /** Starts answering; returns a function that cancels a pending answer. */
  protected abstract start(context: T, config: LoaderConfiguration): () => void;

  /** Answers with `data` on the next microtask, unless aborted or destroyed before. */
  protected succeed(data: string | ArrayBuffer): void {
    const callbacks = this.callbacks;
    const context = this.context;
    if (!callbacks || !context) return;
    queue(() => {
      if (this.callbacks !== callbacks || this.context !== context) return;
      this.callbacks = null;
      const stats = this.stats;
      const t = now();
      stats.loading.first = Math.max(t, stats.loading.start);
      stats.loading.end = stats.loading.first;
      stats.loaded = stats.total = typeof data === "string" ? data.length : data.byteLength;
      stats.bwEstimate = (stats.total * 8000) / Math.max(1, stats.loading.end - stats.loading.start);
      callbacks.onProgress?.(stats, context, data, null);
      callbacks.onSuccess({ url: context.url, data, code: 200 }, stats, context, null);
    });
  }

  protected failWith(code: number, text: string): void {
    const callbacks = this.callbacks;
    const context = this.context;
    if (!callbacks || !context) return;
    queue(() => {
      if (this.callbacks !== callbacks || this.context !== context) return;
      this.callbacks = null;
      callbacks.onError({ code, text }, context, null, this.stats);
    });
  }

  private stop(): void {
    this.cancel?.();
    this.cancel = null;
    this.callbacks = null;
  }
}

class PlaylistLoader extends StoreLoader<PlaylistLoaderContext> {
  protected start(context: PlaylistLoaderContext, config: LoaderConfiguration): () => void {
    // Compared as strings: hls.js 1.5 to 1.7 name these enums differently.
    const type = String(context.type);
    if (type !== "manifest" && type !== "level") {
      this.failWith(404, `hlsrelay: no ${type} playlist`);
      return noop;
    }
    const store = this.store;
    const limit = firstByteTimeout(config);
    if (store.size === 0 && !store.ended) {
      // Nothing to list yet: answer as soon as the first fragment lands.
      return store.waitFor(-1, Infinity, () => this.succeed(store.playlist()));
    }
    const { msn, part } = requestedDirectives(context);
    if (msn === undefined || store.reloadReady(msn, part)) {
      this.succeed(store.playlist());
      return noop;
    }
    // A blocking reload: answer the moment fragment msn (or part `part` of it) lands; after
    // three target durations (or before hls.js would time out) answer with what there is.
    const wait = Math.min(3000 * store.targetDuration, limit * 0.9);
    return store.waitUntil(() => store.reloadReady(msn, part), wait, () => this.succeed(store.playlist()));
  }
}

class FragmentLoader extends StoreLoader<FragmentLoaderContext> {
  protected start(context: FragmentLoaderContext, config: LoaderConfiguration): () => void {
    const store = this.store;
    const sn: unknown = (context.frag as { sn?: unknown } | undefined)?.sn;
    const r = resourceFromUrl(context.url) ?? (typeof sn === "number" ? { kind: "fragment" as const, msn: sn } : undefined);
    if (r?.kind === "init") {
      const init = store.initData(r.id);
      if (init) this.succeed(copyRange(new Uint8Array(init), context));
      else this.failWith(404, `hlsrelay: init segment ${r.id} is no longer held`);
      return noop;
    }
    if (r?.kind === "part") {
      const answer = (): void => {
        const bytes = store.partData(r.msn, r.index);
        if (bytes) this.succeed(copyRange(bytes, context));
        else this.failWith(404, `hlsrelay: part ${r.msn}.${r.index} is not held`);
      };
      if (store.partData(r.msn, r.index) || !store.partExpected(r.msn, r.index)) {
        answer();
        return noop;
      }
      // A preload-hinted part: answer the moment it lands, 404 once it cannot any more (its
      // fragment closed without it, or the stream ended), or when waiting too long.
      const wait = Math.min(3000 * store.targetDuration, firstByteTimeout(config) * 0.9);
      return store.waitUntil(() => store.partData(r.msn, r.index) !== undefined || !store.partExpected(r.msn, r.index), wait, answer);
    }
    const f = r === undefined ? undefined : store.get(r.msn);
    if (!f) {
      this.failWith(404, `hlsrelay: fragment ${String(r?.msn)} is no longer held`);
      return noop;
    }
    this.succeed(copyRange(new Uint8Array(f.data), context));
    return noop;
  }
}

/**
 * Loader classes for hls.js that answer from `store`: the playlist loader serves the
 * synthesised live playlist (holding a blocking reload until the requested fragment, or
 * part, lands), the fragment loader serves a copy of the bytes of a fragment, part or
 * init segment (holding a request for a preload-hinted part until the part lands).
 *
 * ```ts
 * const hls = new Hls({ ...createLoaders(store), lowLatencyMode: true });
 * hls.loadSource(store.playlistUrl);
 * ```
 */
export function createLoaders(store: FragmentStore): RelayLoaders {
  class RelayPlaylistLoader extends PlaylistLoader {
    constructor(config?: HlsConfig) {
      super(store, config);
    }
  }
  class RelayFragmentLoader extends FragmentLoader {
    constructor(config?: HlsConfig) {
      super(store, config);
    }
  }
  return { pLoader: RelayPlaylistLoader, fLoader: RelayFragmentLoader };
}

/** The blocking reload asked for: `_HLS_msn` and `_HLS_part` of the URL, or hls.js's delivery directives. */
function requestedDirectives(context: PlaylistLoaderContext): { msn?: number; part?: number } {
  const m = /[?&]_HLS_msn=(\d+)/.exec(context.url);
  if (m) {
    const p = /[?&]_HLS_part=(\d+)/.exec(context.url);
    return { msn: Number(m[1]), part: p ? Number(p[1]) : undefined };
  }
  const d = (context as { deliveryDirectives?: { msn?: unknown; part?: unknown } | null }).deliveryDirectives;
  const msn = typeof d?.msn === "number" ? d.msn : undefined;
  return { msn, part: msn !== undefined && typeof d?.part === "number" ? d.part : undefined };
}

/**
 * A copy of `bytes` (with its worker on, hls.js transfers the buffer it is given), or of the
 * byte range the context asks for (`rangeEnd` exclusive, as hls.js's own loaders send it).
 */
function copyRange(bytes: Uint8Array, context: FragmentLoaderContext): ArrayBuffer {
  const start = context.rangeStart ?? 0;
  const end = context.rangeEnd ?? 0;
  const view = end > 0 ? bytes.subarray(start, end) : start > 0 ? bytes.subarray(start) : bytes;
  return view.slice().buffer;
}

function firstByteTimeout(config: LoaderConfiguration): number {
  const p = config.loadPolicy as Partial<LoaderConfiguration["loadPolicy"]> | undefined;
  if (p && typeof p.maxTimeToFirstByteMs === "number" && Number.isFinite(p.maxTimeToFirstByteMs)) {
    return p.maxTimeToFirstByteMs;
  }
  if (p && typeof p.maxLoadTimeMs === "number" && Number.isFinite(p.maxLoadTimeMs)) return p.maxLoadTimeMs;
  return typeof config.timeout === "number" && config.timeout > 0 ? config.timeout : 10_000;
}

function noop(): void {}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

const resolved = Promise.resolve();
function queue(fn: () => void): void {
  void resolved.then(fn);
}
