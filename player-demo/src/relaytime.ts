/**
 * When the relay received the media on screen: the `time` of each part (or whole
 * fragment) as the SDK's client delivered it, and the lookup of a media time through
 * hls.js's playlist. No DOM here.
 *
 * The relay stamps every part with the moment it received it (unless the publisher set a
 * time); a whole fragment carries the publisher's time if it set one (bin/publish stamps
 * an MPEG-TS fragment with the wall-clock time of its first frame), else the relay's.
 */

/** A part as recorded: its index in the fragment, duration, and the relay's `time`. */
interface TimedPart {
  index: number;
  duration: number;
  time: number | undefined;
}

/** A fragment as recorded: its parts received so far (none for a whole fragment), and its own `time`. */
interface TimedFragment {
  epoch: string;
  parts: TimedPart[];
  time: number | undefined;
}

/** Program date-times closer than this (ms) are the same (the playlist writes whole milliseconds). */
const PDT_SLACK_MS = 2;
/** Media time slack (seconds) at part boundaries and at the end of a fragment. */
const EDGE = 0.001;
const END_SLACK = 0.05;

/**
 * The relay's `time` of the parts and fragments a client received, by fragment sequence
 * number: the newest `max` fragments (a bounded map; the player's window is smaller).
 */
export class RelayTimes {
  private readonly bySeq = new Map<number, TimedFragment>();

  constructor(private readonly max = 64) {}

  /** Number of fragments held. */
  get size(): number {
    return this.bySeq.size;
  }

  /** Records a part (the client's `part` event). */
  addPart(p: { seq: number; epoch: string; index: number; duration: number; time?: number }): void {
    let f = this.bySeq.get(p.seq);
    if (f === undefined || f.epoch !== p.epoch) {
      f = { epoch: p.epoch, parts: [], time: undefined };
      this.put(p.seq, f);
    }
    const last = f.parts[f.parts.length - 1];
    if (last !== undefined && p.index <= last.index) return; // held already
    f.parts.push({ index: p.index, duration: p.duration, time: p.time });
  }

  /** Records a fragment (the client's `fragment` event): whole, or closing the parts received. */
  addFragment(f: {
    seq: number;
    epoch: string;
    time?: number;
    parts?: ReadonlyArray<{ seq: number; epoch: string; index: number; duration: number; time?: number }>;
  }): void {
    if (f.parts !== undefined && f.parts.length > 0) {
      for (const p of f.parts) this.addPart(p);
      const held = this.bySeq.get(f.seq);
      if (held) held.time = f.time;
      return;
    }
    this.put(f.seq, { epoch: f.epoch, parts: [], time: f.time });
  }

  /**
   * The relay's time of the media `offset` seconds into fragment `seq`, counted from the
   * first part received of it (where a player that lists the parts received starts the
   * fragment): the `time` of the part holding it, by cumulative part durations, or the
   * whole fragment's `time`. `pdt`, the player's program date-time of the fragment (the
   * time of its first part received, or its own), confirms that `seq` is that fragment;
   * if not (the player numbers fragments on after a gap or a restart), the fragment with
   * that start time is used. Null when unknown.
   */
  at(seq: number, offset: number, pdt?: number | null): number | null {
    let f = this.bySeq.get(seq);
    if (pdt !== undefined && pdt !== null && (f === undefined || !near(startTime(f), pdt))) {
      f = undefined;
      for (const x of this.bySeq.values()) {
        if (near(startTime(x), pdt)) f = x;
      }
    }
    if (f === undefined) return null;
    if (f.parts.length === 0) return f.time ?? null;
    let end = 0;
    for (const p of f.parts) {
      end += p.duration;
      if (offset < end - EDGE) return p.time ?? null;
    }
    const last = f.parts[f.parts.length - 1];
    return offset < end + END_SLACK ? (last?.time ?? null) : null;
  }

  clear(): void {
    this.bySeq.clear();
  }

  private put(seq: number, f: TimedFragment): void {
    this.bySeq.delete(seq);
    this.bySeq.set(seq, f);
    while (this.bySeq.size > this.max) {
      const oldest = this.bySeq.keys().next();
      if (oldest.done === true) break;
      this.bySeq.delete(oldest.value);
    }
  }
}

function startTime(f: TimedFragment): number | undefined {
  return f.parts.length > 0 ? f.parts[0]?.time : f.time;
}

function near(a: number | undefined, b: number): boolean {
  return a !== undefined && Math.abs(a - b) <= PDT_SLACK_MS;
}

/** The parts of hls.js's playlist details the lookup reads. */
export interface PlaylistFragment {
  sn: number | "initSegment";
  start: number;
  duration: number;
  programDateTime: number | null;
}

export interface PlaylistDetails {
  fragments: ReadonlyArray<PlaylistFragment>;
  /** LL-HLS: the fragment being received, listed by its parts only. */
  fragmentHint?: PlaylistFragment;
}

/**
 * The fragment of hls.js's playlist that holds media time `t` (by its `start`, which hls.js
 * aligns with the parsed timestamps), the open one (`fragmentHint`) included.
 */
export function fragmentAt(d: PlaylistDetails, t: number): PlaylistFragment | undefined {
  const holds = (f: PlaylistFragment | undefined): boolean => f !== undefined && t >= f.start - EDGE && t < f.start + f.duration + EDGE;
  if (holds(d.fragmentHint)) return d.fragmentHint;
  for (let i = d.fragments.length - 1; i >= 0; i--) {
    const f = d.fragments[i];
    if (holds(f)) return f;
  }
  return undefined;
}

/**
 * The relay's time of media time `t` played by hls.js: its fragment in the playlist (`sn`
 * is the relay's sequence number, `start` where it begins), then the part by cumulative
 * part durations.
 */
export function relayTimeInPlaylist(d: PlaylistDetails | undefined | null, times: RelayTimes, t: number): number | null {
  if (!d) return null;
  const f = fragmentAt(d, t);
  if (f === undefined || typeof f.sn !== "number") return null;
  return times.at(f.sn, t - f.start, f.programDateTime);
}
