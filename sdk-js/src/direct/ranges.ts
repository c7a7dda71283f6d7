/** The part of `TimeRanges` the direct mode reads (a `<video>`'s or a `SourceBuffer`'s `buffered`). */
export interface TimeRangesLike {
  readonly length: number;
  start(index: number): number;
  end(index: number): number;
}

/** One buffered range and its index. */
export interface Range {
  start: number;
  end: number;
  index: number;
}

/**
 * How far before a range's start the playhead still counts as in it: browsers report
 * positions a hair before the first frame after a seek to a range's start.
 */
const EPSILON = 0.01;

/** The range holding `t`, if any. */
export function rangeAt(b: TimeRangesLike, t: number): Range | null {
  for (let i = 0; i < b.length; i++) {
    const start = b.start(i);
    const end = b.end(i);
    if (t >= start - EPSILON && t < end) return { start, end, index: i };
  }
  return null;
}

/** The first range starting after `t`, if any. */
export function rangeAfter(b: TimeRangesLike, t: number): Range | null {
  for (let i = 0; i < b.length; i++) {
    const start = b.start(i);
    if (start > t) return { start, end: b.end(i), index: i };
  }
  return null;
}

/** Seconds of media buffered from `t` on, in the range holding `t`. */
export function bufferedAhead(b: TimeRangesLike | null | undefined, t: number): number {
  if (!b) return 0;
  const r = rangeAt(b, t);
  return r ? Math.max(0, r.end - t) : 0;
}

/** The end of the last range: the newest media when media is appended in order. */
export function bufferedEnd(b: TimeRangesLike): number | null {
  return b.length > 0 ? b.end(b.length - 1) : null;
}

/** A copy that stays valid (a `TimeRanges` read after its `SourceBuffer` was removed throws). */
export function snapshot(b: TimeRangesLike): Range[] {
  const out: Range[] = [];
  for (let i = 0; i < b.length; i++) out.push({ start: b.start(i), end: b.end(i), index: i });
  return out;
}
