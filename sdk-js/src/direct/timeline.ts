/** Overlaps up to this long (seconds) are rounding, not media appended again. */
const SLACK = 0.001;

/** The media time a part occupies, and when it was published. */
export interface PartSpan {
  /** Media time, in seconds. */
  start: number;
  end: number;
  /** The part's fragment and index within it. */
  seq: number;
  index: number;
  epoch: string;
  /** Publish wall-clock time of the part, Unix ms (when the relay received it unless the publisher set one). */
  time?: number;
  /** `Date.now()` when the part arrived here. */
  receivedAt: number;
}

/**
 * Which part holds which media time: the direct mode's latency readings look up the
 * part of the frame on screen. Spans are kept in media-time order; a new span replaces
 * those it overlaps (media appended again, or a timeline that went back). Bounded: the
 * oldest spans go first once `maxSpans` are held.
 */
export class PartTimeline {
  private spans: PartSpan[] = [];

  constructor(private readonly maxSpans = 600) {}

  /** Number of spans held. */
  get size(): number {
    return this.spans.length;
  }

  /** Records a span (ignored if empty). */
  add(span: PartSpan): void {
    if (!(span.end > span.start)) return;
    const s = this.spans;
    const last = s[s.length - 1];
    if (!last || last.end <= span.start + SLACK) {
      s.push(span);
    } else {
      // Out of order or overlapping: drop what it covers, insert in order.
      this.spans = s.filter((x) => x.end <= span.start + SLACK || x.start >= span.end - SLACK);
      const i = this.spans.findIndex((x) => x.start >= span.end);
      this.spans.splice(i < 0 ? this.spans.length : i, 0, span);
    }
    if (this.spans.length > this.maxSpans) this.spans.splice(0, this.spans.length - this.maxSpans);
  }

  /** The span holding media time `t`, if any. */
  at(t: number): PartSpan | undefined {
    const s = this.spans;
    // Binary search for the last span starting at or before t.
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = s[mid];
      if (x && x.start <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const span = found >= 0 ? s[found] : undefined;
    return span && t < span.end ? span : undefined;
  }

  /** The newest span (the highest media time). */
  newest(): PartSpan | undefined {
    return this.spans[this.spans.length - 1];
  }

  /** Forgets the spans that end at or before `t`. */
  pruneBefore(t: number): void {
    const i = this.spans.findIndex((x) => x.end > t);
    if (i < 0) this.spans = [];
    else if (i > 0) this.spans.splice(0, i);
  }

  clear(): void {
    this.spans = [];
  }
}
