import type { Fragment, RelayClientEvents } from "./client";
import { Emitter } from "./emitter";
import { PART_HOLD_BACK_PARTS } from "./hls-config";
import { type InitSegment, type Part } from "./parts";
import { renderPlaylist, type LowLatencyInput, type PlaylistSegment } from "./playlist";
import { concatBytes, sameBytes } from "./bytes";

/** A part of a fragment held by a {@link FragmentStore} (parts extension). */
export interface StoredPart {
  /** Its index in the fragment as the relay numbers it, from 0 (a fragment joined late lacks the first ones). */
  readonly index: number;
  /** Seconds. */
  readonly duration: number;
  /** It starts with an independent frame. */
  readonly independent: boolean;
  /** Where its bytes start in the fragment's bytes. */
  readonly offset: number;
  /** How many bytes it has. */
  readonly length: number;
}

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
  /** fMP4: the id of its init segment (see {@link FragmentStore.initData}); absent for MPEG-TS. */
  readonly init?: number;
  /** Parts extension: the parts it was received in, as slices of `data`; absent for a fragment received whole. */
  readonly parts?: readonly StoredPart[];
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
  /**
   * Parts: `PART-HOLD-BACK` (how far behind the newest part hls.js plays in low-latency mode)
   * in part target durations. At least 2, the HLS minimum. Defaults to 3 ({@link PART_HOLD_BACK_PARTS}).
   */
  partHoldBackParts?: number;
}

/** Events of {@link FragmentStore}. */
export type FragmentStoreEvents = {
  /** A fragment was added (for one received in parts: when it closed). */
  fragment: [fragment: StoredFragment];
  /** The stream ended; the playlist now carries `EXT-X-ENDLIST`. */
  ended: [];
};

/** The fragment being received in parts: listed by its parts until it closes. */
interface OpenFragment extends PlaylistSegment {
  readonly epoch: string;
  readonly seq: number;
  readonly parts: StoredPart[];
  readonly chunks: ArrayBuffer[];
  bytes: number;
}

interface Waiter {
  ready: () => boolean;
  done: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** How far back (in target durations) the playlist lists the parts of closed fragments. */
const PART_LIST_TARGET_DURATIONS = 3;

/**
 * Holds a bounded window of received fragments and synthesises the live media
 * playlist that hls.js loads through the loaders of {@link createLoaders}.
 *
 * Media sequence numbers start at the first fragment's sequence number and stay
 * contiguous: while the relay delivers without gaps they equal the fragments' sequence
 * numbers; after a gap or a restarted stream instance (numbered from 0 again) they
 * continue from the last one, after a discontinuity, so they never go back.
 *
 * A stream received in parts (fMP4, see {@link feedStore}) makes the playlist LL-HLS: the
 * fragment being received is listed by its parts, the moment each arrives. MPEG-TS streams
 * keep a plain live playlist.
 */
export class FragmentStore extends Emitter<FragmentStoreEvents> {
  /** The URL the playlist is loaded from (never fetched: the loaders answer it). */
  readonly playlistUrl = "http://hlsrelay.invalid/live.m3u8";

  private readonly window: number;
  private readonly maxBytes: number;
  private readonly initialFragments: number;
  private readonly startOffset: number | undefined;
  private readonly partHoldBackParts: number;
  private fragments: StoredFragment[] = [];
  private open: OpenFragment | null = null;
  private bytes = 0;
  private lastMsn = -1;
  private epoch: string | undefined;
  private lastSeq = -1;
  private cc = 0;
  private maxDuration = 0;
  private maxPartDuration = 0;
  private partsSeen = false;
  private inits = new Map<number, ArrayBuffer>();
  private currentInit: number | undefined;
  private initCount = 0;
  private startMsn: number | undefined;
  private endedValue = false;
  private waiters: Waiter[] = [];

  constructor(options: FragmentStoreOptions = {}) {
    super();
    this.window = positive(options.window, 10);
    this.maxBytes = positive(options.maxBytes, 64 * 1024 * 1024);
    this.initialFragments = Math.min(positive(options.initialFragments, 2), this.window);
    this.startOffset = options.startOffset;
    const hold = options.partHoldBackParts;
    this.partHoldBackParts = hold !== undefined && Number.isFinite(hold) && hold >= 2 ? hold : PART_HOLD_BACK_PARTS;
  }

  /** True once {@link end} was called. */
  get ended(): boolean {
    return this.endedValue;
  }

  /** The newest fragment's media sequence number, or -1 if there is none (a fragment still receiving parts does not count). */
  get newest(): number {
    const last = this.fragments[this.fragments.length - 1];
    return last ? last.msn : -1;
  }

  /** Number of fragments held (a fragment still receiving parts does not count). */
  get size(): number {
    return this.fragments.length;
  }

  /** True once a part arrived: the playlist is LL-HLS. */
  get lowLatency(): boolean {
    return this.partsSeen;
  }

  /** `PART-TARGET`: the longest part seen, in seconds; 0 before any. */
  get partTarget(): number {
    return this.maxPartDuration;
  }

  /** Adds a fragment received by a {@link RelayClient}; returns it as stored. A fragment received in parts closes here. */
  add(
    f: Pick<Fragment, "seq" | "epoch" | "duration" | "disc" | "data" | "receivedAt"> & {
      time?: number;
      parts?: ReadonlyArray<Part>;
      complete?: boolean;
    },
  ): StoredFragment | undefined {
    if (this.endedValue) return undefined;
    if (f.parts && f.parts.length > 0) {
      // Parts not added one by one (or not all of them) are added now.
      for (const p of f.parts) this.addPart(p);
      const o = this.open;
      if (o === null || o.epoch !== f.epoch || o.seq !== f.seq) return undefined; // held already
      return this.close(f.complete === true ? f.duration : undefined, f.data);
    }
    if (this.open && f.epoch === this.epoch && f.seq <= this.lastSeq) return undefined; // already held
    if (this.open) this.close(undefined, undefined);
    const prev = this.fragments[this.fragments.length - 1];
    const placed = this.place(f.epoch, f.seq, f.disc);
    if (!placed) return undefined; // already held
    this.bytes += f.data.byteLength;
    return this.push({
      msn: placed.msn,
      cc: placed.cc,
      duration: f.duration,
      pdt: startTime(f, f.duration, placed.disc ? undefined : prev),
      disc: placed.disc,
      data: f.data,
      ...(this.currentInit !== undefined ? { init: this.currentInit } : {}),
    });
  }

  /**
   * Adds the stream's fMP4 init segment (parts extension). The same bytes again (the relay
   * sends them on every connection) change nothing; new ones apply to the fragments that
   * start after.
   */
  addInit(init: Pick<InitSegment, "data">): void {
    if (this.endedValue) return;
    const current = this.currentInit === undefined ? undefined : this.inits.get(this.currentInit);
    if (current !== undefined && sameBytes(current, init.data)) return;
    this.currentInit = ++this.initCount;
    this.inits.set(this.currentInit, init.data);
    this.dropUnusedInits();
  }

  /** Adds a part (parts extension): the playlist lists it at once, and a waiting blocking reload is answered. */
  addPart(p: Pick<Part, "seq" | "index" | "epoch" | "duration" | "independent" | "disc" | "data" | "receivedAt"> & { time?: number }): void {
    if (this.endedValue) return;
    let o = this.open;
    if (o !== null && o.epoch === p.epoch && p.seq < o.seq) return; // a part of an older fragment
    if (o !== null && (o.epoch !== p.epoch || o.seq !== p.seq)) {
      // The relay skipped the rest of the open fragment: list it with the parts it has.
      this.close(undefined, undefined);
      o = null;
    }
    if (o === null) {
      const prev = this.fragments[this.fragments.length - 1];
      const placed = this.place(p.epoch, p.seq, p.disc);
      if (!placed) return; // held already
      o = this.open = {
        msn: placed.msn,
        cc: placed.cc,
        duration: 0,
        pdt: startTime(p, p.duration, placed.disc ? undefined : prev),
        disc: placed.disc,
        epoch: p.epoch,
        seq: p.seq,
        parts: [],
        chunks: [],
        bytes: 0,
      };
      if (this.currentInit !== undefined) o.init = this.currentInit;
    } else {
      const last = o.parts[o.parts.length - 1];
      if (last && p.index <= last.index) return; // held already
    }
    o.parts.push({ index: p.index, duration: p.duration, independent: p.independent, offset: o.bytes, length: p.data.byteLength });
    o.chunks.push(p.data);
    o.bytes += p.data.byteLength;
    o.duration += p.duration;
    this.bytes += p.data.byteLength;
    this.partsSeen = true;
    this.maxPartDuration = Math.max(this.maxPartDuration, p.duration);
    this.evict();
    this.wake(false);
  }

  /** Marks the stream as ended: the playlist gets `EXT-X-ENDLIST` and waiting requests are answered. */
  end(): void {
    if (this.endedValue) return;
    if (this.open) this.close(undefined, undefined);
    this.endedValue = true;
    this.emit("ended");
    this.wake(true);
  }

  /** The fragment with media sequence number `msn`, if still held (and closed). */
  get(msn: number): StoredFragment | undefined {
    const first = this.fragments[0];
    return first ? this.fragments[msn - first.msn] : undefined;
  }

  /** The bytes of part `index` (the relay's number) of fragment `msn`, if held: a view, not a copy. */
  partData(msn: number, index: number): Uint8Array | undefined {
    const o = this.open;
    if (o && o.msn === msn) {
      const i = o.parts.findIndex((p) => p.index === index);
      const chunk = o.chunks[i];
      return chunk === undefined ? undefined : new Uint8Array(chunk);
    }
    const f = this.get(msn);
    const p = f?.parts?.find((q) => q.index === index);
    return f && p ? new Uint8Array(f.data, p.offset, p.length) : undefined;
  }

  /** Whether part `index` of fragment `msn` is not held but may still arrive (its fragment is open or not begun, the stream goes on). */
  partExpected(msn: number, index: number): boolean {
    if (this.endedValue) return false;
    const o = this.open;
    if (o === null) return msn > this.lastMsn;
    const last = o.parts[o.parts.length - 1];
    return msn > o.msn || (msn === o.msn && last !== undefined && index > last.index);
  }

  /** The init segment `id`, if still held. */
  initData(id: number): ArrayBuffer | undefined {
    return this.inits.get(id);
  }

  /**
   * Whether the playlist answers a blocking reload (`_HLS_msn=msn`, `_HLS_part=part`): it
   * lists fragment `msn` (closed) or a later one; with `part`, part `part` of fragment `msn`
   * (counted as the playlist lists its parts, from 0) or a later part. A part past the last
   * one of a closed fragment is the next fragment's first. Always true once the stream ended.
   */
  reloadReady(msn: number, part?: number): boolean {
    if (this.endedValue) return true;
    const last = this.fragments[this.fragments.length - 1];
    if (last === undefined) return false;
    if (part === undefined) return last.msn >= msn;
    const o = this.open;
    if (o) return o.msn > msn || (o.msn === msn && o.parts.length > part);
    return last.msn > msn || (last.msn === msn && (last.parts === undefined || last.parts.length > part));
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
    const fragments = listed.length > 0 ? listed : this.fragments.slice(-1);
    return renderPlaylist({
      fragments,
      targetDuration: this.targetDuration,
      ended: this.endedValue,
      startOffset: this.startOffset,
      lowLatency: this.lowLatencyInput(fragments),
    });
  }

  /**
   * Calls `done` once fragment `msn` is held, the stream ended, or `timeoutMs` passed
   * (whichever comes first; at once if already so). `msn` -1 waits for any fragment.
   * Returns a function that cancels the wait.
   */
  waitFor(msn: number, timeoutMs: number, done: () => void): () => void {
    return this.waitUntil(() => this.fragments.length > 0 && this.newest >= msn, timeoutMs, done);
  }

  /**
   * Calls `done` once `ready()` is true (checked now and whenever a fragment or part is
   * added), the stream ended, or `timeoutMs` passed, whichever comes first. Returns a
   * function that cancels the wait.
   */
  waitUntil(ready: () => boolean, timeoutMs: number, done: () => void): () => void {
    if (this.endedValue || ready()) {
      done();
      return () => undefined;
    }
    const w: Waiter = { ready, done, timer: undefined };
    if (Number.isFinite(timeoutMs)) {
      w.timer = setTimeout(() => {
        this.removeWaiter(w);
        done();
      }, Math.max(0, timeoutMs));
    }
    this.waiters.push(w);
    return () => this.removeWaiter(w);
  }

  /** Drops every fragment, part, init segment and waiting request (the latter are never answered). */
  clear(): void {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
    this.fragments = [];
    this.open = null;
    this.inits.clear();
    this.currentInit = undefined;
    this.bytes = 0;
  }

  /**
   * Numbers the fragment `seq` of `epoch`: its media sequence number, discontinuity
   * sequence number and whether a discontinuity precedes it; undefined if already held.
   */
  private place(epoch: string, seq: number, disc: boolean): { msn: number; cc: number; disc: boolean } | undefined {
    let msn = seq;
    if (this.epoch !== undefined) {
      if (epoch === this.epoch && seq <= this.lastSeq) return undefined;
      // Media sequence numbers stay contiguous: a skipped fragment or a restarted
      // stream instance (numbered from 0 again) continues them after a discontinuity.
      if (epoch !== this.epoch || seq !== this.lastSeq + 1) disc = true;
      msn = this.lastMsn + 1;
    }
    this.epoch = epoch;
    this.lastSeq = seq;
    this.lastMsn = msn;
    if (disc) this.cc++;
    return { msn, cc: this.cc, disc };
  }

  /**
   * Closes the open fragment: it becomes a segment of the playlist. `duration` is the whole
   * fragment's when all its parts arrived, else the sum of its parts'; `data` is their bytes
   * if the client joined them already.
   */
  private close(duration: number | undefined, data: ArrayBuffer | undefined): StoredFragment | undefined {
    const o = this.open;
    if (o === null) return undefined;
    this.open = null;
    return this.push({
      msn: o.msn,
      cc: o.cc,
      duration: duration ?? o.duration,
      pdt: o.pdt,
      disc: o.disc,
      data: data !== undefined && data.byteLength === o.bytes ? data : concatBytes(o.chunks),
      ...(o.init !== undefined ? { init: o.init } : {}),
      parts: o.parts,
    });
  }

  private push(stored: StoredFragment): StoredFragment {
    this.fragments.push(stored);
    this.maxDuration = Math.max(this.maxDuration, stored.duration);
    this.evict();
    this.emit("fragment", stored);
    this.wake(false);
    return stored;
  }

  private evict(): void {
    let evicted = false;
    while (this.fragments.length > 1 && (this.fragments.length > this.window || this.bytes > this.maxBytes)) {
      const old = this.fragments.shift();
      if (old) this.bytes -= old.data.byteLength;
      evicted = true;
    }
    if (evicted) this.dropUnusedInits();
  }

  private dropUnusedInits(): void {
    for (const id of this.inits.keys()) {
      if (id !== this.currentInit && id !== this.open?.init && !this.fragments.some((f) => f.init === id)) this.inits.delete(id);
    }
  }

  private lowLatencyInput(listed: ReadonlyArray<StoredFragment>): LowLatencyInput | undefined {
    if (!this.partsSeen) return undefined;
    const o = this.open;
    // Parts are listed for the fragments within a few target durations of the live edge.
    let partsFrom = o ? o.msn : this.lastMsn + 1;
    let span = o ? o.duration : 0;
    for (let i = listed.length - 1; i >= 0 && span < PART_LIST_TARGET_DURATIONS * this.targetDuration; i--) {
      const f = listed[i];
      if (f === undefined) break;
      partsFrom = f.msn;
      span += f.duration;
    }
    const last = o?.parts[o.parts.length - 1];
    const input: LowLatencyInput = {
      partTarget: this.maxPartDuration,
      partHoldBack: this.partHoldBackParts * this.maxPartDuration,
      partsFrom,
      next: o && last ? { msn: o.msn, index: last.index + 1 } : { msn: this.lastMsn + 1, index: 0 },
    };
    if (o) input.open = o;
    return input;
  }

  private wake(all: boolean): void {
    const due = this.waiters.filter((w) => all || w.ready());
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

/**
 * Feeds `store` from `client`: init segments, parts and fragments. Returns a function that
 * stops. (The stream's end is the caller's to pass on, with {@link FragmentStore.end}.)
 */
export function feedStore(client: Pick<Emitter<RelayClientEvents>, "on">, store: FragmentStore): () => void {
  const offs = [
    client.on("init", (i) => store.addInit(i)),
    client.on("part", (p) => store.addPart(p)),
    client.on("fragment", (f) => void store.add(f)),
  ];
  return () => offs.forEach((off) => off());
}

/** When the first frame of a fragment (or part) starting after `prev` was published, in Unix ms. */
function startTime(
  f: { time?: number; receivedAt: number },
  duration: number,
  prev: { pdt: number; duration: number } | undefined,
): number {
  if (f.time !== undefined && f.time > 0) return f.time;
  if (prev) return prev.pdt + prev.duration * 1000;
  return f.receivedAt - duration * 1000;
}

function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt;
}
