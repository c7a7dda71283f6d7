/**
 * Stand-ins for the direct-mode tests: the fMP4 fixtures split into an init segment and
 * parts, and an in-memory MediaSource / SourceBuffer / <video> whose buffered ranges
 * follow the media time of what was appended (read with the SDK's own moof reader).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseChunk, parseInit, type InitInfo } from "../../src/direct/mp4";
import type { TimeRangesLike } from "../../src/direct/ranges";

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures");

/** A fixture file of test/fixtures. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(fixtures, name)));
}

/** The bytes of `u` in a new ArrayBuffer of their own. */
export function own(u: Uint8Array): ArrayBuffer {
  return u.slice().buffer;
}

/** An fMP4 file cut the way a publisher sends it: the init segment, then each moof+mdat pair as a part. */
export function splitFmp4(file: Uint8Array): { init: Uint8Array; parts: Uint8Array[] } {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let o = 0;
  let initEnd = 0;
  const parts: Uint8Array[] = [];
  let moofAt = -1;
  while (o + 8 <= file.length) {
    const size = v.getUint32(o);
    const type = String.fromCharCode(...file.subarray(o + 4, o + 8));
    if (type === "ftyp" || type === "moov") initEnd = o + size;
    if (type === "moof") moofAt = o;
    if (type === "mdat" && moofAt >= 0) {
      parts.push(file.slice(moofAt, o + size));
      moofAt = -1;
    }
    o += size;
  }
  return { init: file.slice(0, initEnd), parts };
}

/** A copy of `part` with every track's `tfdt` moved by `seconds`. */
export function shiftPart(part: Uint8Array, init: InitInfo, seconds: number): Uint8Array {
  const out = part.slice();
  const v = new DataView(out.buffer);
  const scale = new Map(init.tracks.map((t) => [t.id, t.timescale]));
  const walk = (start: number, end: number, trackId: number): void => {
    let o = start;
    let id = trackId;
    while (o + 8 <= end) {
      const size = v.getUint32(o);
      const type = String.fromCharCode(...out.subarray(o + 4, o + 8));
      if (type === "moof" || type === "traf") walk(o + 8, o + size, id);
      if (type === "tfhd") id = v.getUint32(o + 12);
      if (type === "tfdt") {
        const delta = Math.round(seconds * (scale.get(id) ?? 1));
        if (v.getUint8(o + 8) === 1) {
          const t = v.getUint32(o + 12) * 2 ** 32 + v.getUint32(o + 16) + delta;
          v.setUint32(o + 12, Math.floor(t / 2 ** 32));
          v.setUint32(o + 16, t % 2 ** 32);
        } else v.setUint32(o + 12, v.getUint32(o + 12) + delta);
      }
      o += size;
    }
  };
  walk(0, out.length, 0);
  return out;
}

/** Mutable time ranges. */
export class Ranges implements TimeRangesLike {
  list: Array<[number, number]> = [];
  get length(): number {
    return this.list.length;
  }
  start(i: number): number {
    const r = this.list[i];
    if (!r) throw new RangeError(`no range ${i}`);
    return r[0];
  }
  end(i: number): number {
    const r = this.list[i];
    if (!r) throw new RangeError(`no range ${i}`);
    return r[1];
  }
  add(start: number, end: number): void {
    const all = [...this.list, [start, end] as [number, number]].sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const r of all) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1] + 1e-3) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.list = merged;
  }
  remove(start: number, end: number): void {
    const out: Array<[number, number]> = [];
    for (const [s, e] of this.list) {
      if (e <= start || s >= end) out.push([s, e]);
      else {
        if (s < start) out.push([s, start]);
        if (e > end) out.push([end, e]);
      }
    }
    this.list = out;
  }
  static of(...pairs: Array<[number, number]>): Ranges {
    const r = new Ranges();
    for (const [s, e] of pairs) r.add(s, e);
    return r;
  }
}

type Listener = () => void;

class Events {
  private handlers = new Map<string, Listener[]>();
  addEventListener(type: string, l: Listener): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), l]);
  }
  removeEventListener(type: string, l: Listener): void {
    this.handlers.set(
      type,
      (this.handlers.get(type) ?? []).filter((x) => x !== l),
    );
  }
  dispatch(type: string): void {
    for (const l of this.handlers.get(type) ?? []) l();
  }
  listeners(type: string): number {
    return (this.handlers.get(type) ?? []).length;
  }
}

/** A SourceBuffer: appends take a macrotask; buffered follows the appended media's time. */
export class FakeSourceBuffer extends Events {
  mode: AppendMode = "sequence";
  updating = false;
  readonly ranges = new Ranges();
  /** What was done, in order: `init`, `part <start>`, `remove <start> <end>`, `changeType <type>`. */
  readonly log: string[] = [];
  /** Buffered seconds beyond which appendBuffer throws QuotaExceededError. */
  quotaSeconds = Infinity;
  /** Make the next append fail with an `error` event. */
  failNext = false;
  private init: InitInfo | null = null;

  constructor(readonly type: string) {
    super();
  }

  get buffered(): TimeRangesLike {
    return this.ranges;
  }

  appendBuffer(data: ArrayBuffer): void {
    if (this.updating) throw Object.assign(new Error("updating"), { name: "InvalidStateError" });
    const info = parseInit(data);
    if (info) {
      this.init = info;
      this.log.push("init");
      this.finish(() => undefined);
      return;
    }
    const chunk = this.init ? parseChunk(data, this.init) : null;
    if (chunk) {
      let total = 0;
      for (const [s, e] of this.ranges.list) total += e - s;
      if (total + (chunk.end - chunk.start) > this.quotaSeconds) throw Object.assign(new Error("quota"), { name: "QuotaExceededError" });
    }
    const fail = this.failNext || !chunk;
    this.failNext = false;
    this.updating = true;
    setTimeout(() => {
      this.updating = false;
      if (fail) {
        this.log.push("error");
        this.dispatch("error");
        this.dispatch("updateend");
        return;
      }
      if (chunk) {
        this.log.push(`part ${chunk.start.toFixed(2)}`);
        this.ranges.add(chunk.start, chunk.end);
      }
      this.dispatch("updateend");
    }, 0);
  }

  remove(start: number, end: number): void {
    this.log.push(`remove ${start.toFixed(2)} ${end === Infinity ? "inf" : end.toFixed(2)}`);
    this.finish(() => this.ranges.remove(start, end));
  }

  changeType(type: string): void {
    this.log.push(`changeType ${type}`);
  }

  private finish(effect: () => void): void {
    this.updating = true;
    setTimeout(() => {
      this.updating = false;
      effect();
      this.dispatch("updateend");
    }, 0);
  }
}

/** MediaSource stand-in; `supported` decides isTypeSupported. */
export class FakeMediaSource extends Events {
  static supported: (type: string) => boolean = () => true;
  static instances: FakeMediaSource[] = [];
  static isTypeSupported(type: string): boolean {
    return FakeMediaSource.supported(type);
  }
  readyState: "closed" | "open" | "ended" = "closed";
  readonly buffers: FakeSourceBuffer[] = [];
  endOfStreamCalls = 0;
  constructor() {
    super();
    FakeMediaSource.instances.push(this);
  }
  addSourceBuffer(type: string): FakeSourceBuffer {
    if (this.readyState !== "open") throw Object.assign(new Error("not open"), { name: "InvalidStateError" });
    const sb = new FakeSourceBuffer(type);
    this.buffers.push(sb);
    return sb;
  }
  endOfStream(): void {
    this.endOfStreamCalls++;
    this.readyState = "ended";
  }
  open(): void {
    this.readyState = "open";
    this.dispatch("sourceopen");
  }
  static last(): FakeMediaSource {
    const ms = FakeMediaSource.instances[FakeMediaSource.instances.length - 1];
    if (!ms) throw new Error("no FakeMediaSource");
    return ms;
  }
}

const objects = new Map<string, unknown>();
let urlCount = 0;
let restore: (() => void) | null = null;

/** Makes URL.createObjectURL accept a FakeMediaSource (Node's takes Blobs only). */
export function installObjectUrls(): void {
  if (restore) return;
  const create = URL.createObjectURL;
  const revoke = URL.revokeObjectURL;
  URL.createObjectURL = (obj: unknown) => {
    const url = `blob:fake/${++urlCount}`;
    objects.set(url, obj);
    return url;
  };
  URL.revokeObjectURL = (url: string) => {
    objects.delete(url);
  };
  restore = () => {
    URL.createObjectURL = create;
    URL.revokeObjectURL = revoke;
    restore = null;
  };
}

export function uninstallObjectUrls(): void {
  restore?.();
}

/** A <video>: setting `src` to a MediaSource's URL opens it (a macrotask later). */
export class FakeVideo extends Events {
  currentTime = 0;
  playbackRate = 1;
  paused = true;
  seeking = false;
  plays = 0;
  loads = 0;
  error: { code: number; message: string } | null = null;
  disableRemotePlayback = false;
  mediaSource: FakeMediaSource | null = null;
  private srcValue = "";

  get src(): string {
    return this.srcValue;
  }
  set src(url: string) {
    this.srcValue = url;
    const ms = objects.get(url);
    this.mediaSource = ms instanceof FakeMediaSource ? ms : null;
    if (this.mediaSource) {
      const m = this.mediaSource;
      setTimeout(() => m.open(), 0);
    }
  }
  get buffered(): TimeRangesLike {
    return this.mediaSource?.buffers[0]?.ranges ?? new Ranges();
  }
  removeAttribute(name: string): void {
    if (name === "src") {
      this.srcValue = "";
      this.mediaSource = null;
    }
  }
  load(): void {
    this.loads++;
  }
  play(): Promise<void> {
    this.plays++;
    this.paused = false;
    this.dispatch("playing");
    return Promise.resolve();
  }
  canPlayType(): string {
    return "";
  }
  get sourceBuffer(): FakeSourceBuffer | undefined {
    return this.mediaSource?.buffers[0];
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true or 2 s pass. */
export async function eventually(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}
