import type { Fragment } from "./client";
import { Emitter } from "./emitter";
import { renderPlaylist } from "./playlist";

/** A fragment held by a {@link FragmentStore}. */
export interface StoredFragment {
  /** Media sequence number in the synthesised playlist (the fragment's `seq` while the stream instance lasts). */
  readonly msn: number;
  /** Discontinuity sequence number: how many discontinuities precede it, itself included. */
  readonly cc: number;
  /** Seconds. */
  readonly duration: number;
  /** Program date-time of its first frame, Unix milliseconds. */
  readonly pdt: number;
  /** A discontinuity precedes it. */
  readonly disc: boolean;
  /** The bytes; hand out copies only (hls.js may transfer what it gets). */
  readonly data: ArrayBuffer;
}

/** Options of {@link FragmentStore}. */
export interface FragmentStoreOptions {
  /** Fragments kept in memory (the playlist's longest window). Defaults to 10. */
  window?: number;
  /** Bytes kept in memory at most; the oldest fragments go first (the newest always stays). Defaults to 64 MiB. */
  maxBytes?: number;
  /**
   * Fragments listed in the first playlist: the newest ones, so playback starts near live
   * even when the relay sent a backlog. Later playlists grow from there up to `window`.
   * Defaults to 2.
   */
  initialFragments?: number;
  /** If set, `EXT-X-START:TIME-OFFSET` (seconds, negative: from the live edge). */
  startOffset?: number;
}

/** Events of {@link FragmentStore}. */
export type FragmentStoreEvents = {
  /** A fragment was added. */
  fragment: [fragment: StoredFragment];
  /** The stream ended; the playlist now carries `EXT-X-ENDLIST`. */
  ended: [];
};

interface Waiter {
  msn: number;
  done: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Holds a bounded window of received fragments and synthesises the live media
 * playlist that hls.js loads through the loaders of {@link createLoaders}.
 *
 * Media sequence numbers start at the first fragment's sequence number and stay
 * contiguous: while the relay delivers without gaps they equal the fragments' sequence
 * numbers; after a gap or a restarted stream instance (numbered from 0 again) they
 * continue from the last one, after a discontinuity, so they never go back.
 */
export class FragmentStore extends Emitter<FragmentStoreEvents> {
  /** The URL the playlist is loaded from (never fetched: the loaders answer it). */
  readonly playlistUrl = "http://hlsrelay.invalid/live.m3u8";

  private readonly window: number;
  private readonly maxBytes: number;
  private readonly initialFragments: number;
  private readonly startOffset: number | undefined;
  private fragments: StoredFragment[] = [];
  private bytes = 0;
  private lastMsn = -1;
  private epoch: string | undefined;
  private lastSeq = -1;
  private cc = 0;
  private maxDuration = 0;
  private startMsn: number | undefined;
  private endedValue = false;
  private waiters: Waiter[] = [];

  constructor(options: FragmentStoreOptions = {}) {
    super();
    this.window = positive(options.window, 10);
    this.maxBytes = positive(options.maxBytes, 64 * 1024 * 1024);
    this.initialFragments = Math.min(positive(options.initialFragments, 2), this.window);
    this.startOffset = options.startOffset;
  }

  /** True once {@link end} was called. */
  get ended(): boolean {
    return this.endedValue;
  }

  /** The newest fragment's media sequence number, or -1 if there is none. */
  get newest(): number {
    const last = this.fragments[this.fragments.length - 1];
    return last ? last.msn : -1;
  }

  /** Number of fragments held. */
  get size(): number {
    return this.fragments.length;
  }

  /** Adds a fragment received by a {@link RelayClient}; returns it as stored. */
  add(f: Pick<Fragment, "seq" | "epoch" | "duration" | "disc" | "data" | "receivedAt"> & { time?: number }): StoredFragment | undefined {
    if (this.endedValue) return undefined;
    let disc = f.disc;
    let msn = f.seq;
    if (this.epoch !== undefined) {
      if (f.epoch === this.epoch && f.seq <= this.lastSeq) return undefined; // already held
      // Media sequence numbers stay contiguous: a skipped fragment or a restarted
      // stream instance (numbered from 0 again) continues them after a discontinuity.
      if (f.epoch !== this.epoch || f.seq !== this.lastSeq + 1) disc = true;
      msn = this.lastMsn + 1;
    }
    this.epoch = f.epoch;
    this.lastSeq = f.seq;
    this.lastMsn = msn;
    const prev = this.fragments[this.fragments.length - 1];
    let pdt: number;
    if (f.time !== undefined && f.time > 0) pdt = f.time;
    else if (prev && !disc) pdt = prev.pdt + prev.duration * 1000;
    else pdt = f.receivedAt - f.duration * 1000;
    if (disc) this.cc++;
    const stored: StoredFragment = {
      msn,
      cc: this.cc,
      duration: f.duration,
      pdt,
      disc,
      data: f.data,
    };
    this.fragments.push(stored);
    this.bytes += f.data.byteLength;
    this.maxDuration = Math.max(this.maxDuration, f.duration);
    while (this.fragments.length > 1 && (this.fragments.length > this.window || this.bytes > this.maxBytes)) {
      const old = this.fragments.shift();
      if (old) this.bytes -= old.data.byteLength;
    }
    this.emit("fragment", stored);
    this.wake(false);
    return stored;
  }

  /** Marks the stream as ended: the playlist gets `EXT-X-ENDLIST` and waiting requests are answered. */
  end(): void {
    if (this.endedValue) return;
    this.endedValue = true;
    this.emit("ended");
    this.wake(true);
  }

  /** The fragment with media sequence number `msn`, if still held. */
  get(msn: number): StoredFragment | undefined {
    const first = this.fragments[0];
    return first ? this.fragments[msn - first.msn] : undefined;
  }

  /** The target duration: the longest fragment seen, rounded, at least 1. */
  get targetDuration(): number {
    return Math.max(1, Math.round(this.maxDuration));
  }

  /**
   * The live media playlist as it stands. The first call fixes where the listing starts
   * (the newest `initialFragments` fragments); later calls list from there, within the window.
   */
  playlist(): string {
    const first = this.fragments[0];
    if (this.startMsn === undefined && first) {
      this.startMsn = Math.max(first.msn, this.newest - this.initialFragments + 1);
    }
    const start = this.startMsn ?? 0;
    const listed = this.fragments.filter((f) => f.msn >= start);
    return renderPlaylist({
      fragments: listed.length > 0 ? listed : this.fragments.slice(-1),
      targetDuration: this.targetDuration,
      ended: this.endedValue,
      startOffset: this.startOffset,
    });
  }

  /**
   * Calls `done` once fragment `msn` is held, the stream ended, or `timeoutMs` passed
   * (whichever comes first; at once if already so). `msn` -1 waits for any fragment.
   * Returns a function that cancels the wait.
   */
  waitFor(msn: number, timeoutMs: number, done: () => void): () => void {
    if (this.ready(msn)) {
      done();
      return () => undefined;
    }
    const w: Waiter = { msn, done, timer: undefined };
    if (Number.isFinite(timeoutMs)) {
      w.timer = setTimeout(() => {
        this.removeWaiter(w);
        done();
      }, Math.max(0, timeoutMs));
    }
    this.waiters.push(w);
    return () => this.removeWaiter(w);
  }

  /** Drops every fragment and waiting request (the latter are never answered). */
  clear(): void {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
    this.fragments = [];
    this.bytes = 0;
  }

  private ready(msn: number): boolean {
    if (this.endedValue) return true;
    return this.fragments.length > 0 && this.newest >= msn;
  }

  private wake(all: boolean): void {
    const due = this.waiters.filter((w) => all || this.ready(w.msn));
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => !due.includes(w));
    for (const w of due) {
      clearTimeout(w.timer);
      w.done();
    }
  }

  private removeWaiter(w: Waiter): void {
    clearTimeout(w.timer);
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }
}

function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt;
}
