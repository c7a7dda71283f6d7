import { bufferedEnd, rangeAfter, rangeAt, type Range, type TimeRangesLike } from "./ranges";

/** What the latency controller reads and steers: a `<video>`, or a stand-in in tests. */
export interface ControlledMedia {
  currentTime: number;
  playbackRate: number;
  readonly paused: boolean;
  readonly seeking: boolean;
  readonly buffered: TimeRangesLike;
}

/**
 * Options of {@link LatencyController}. Durations in seconds. Defaults follow the part
 * duration (the longest of the last few parts, 0.2 s until one arrived).
 */
export interface LatencyControllerOptions {
  /** Media to hold ahead of the playhead, on average. Defaults to 1.25 × the part duration, at least 0.1 (0.25 for 200 ms parts). */
  targetBuffer?: number;
  /** Nudging starts when the average is this far from the target, and stops within a third of it. Defaults to 0.1. */
  tolerance?: number;
  /** Slowest playback rate. Defaults to 0.95. */
  minRate?: number;
  /** Fastest playback rate. Defaults to 1.1. */
  maxRate?: number;
  /** Playback-rate change per second of error (proportional control). Defaults to 0.5: 0.2 s too much buffer plays at 1.1. */
  gain?: number;
  /**
   * Seek to live (`targetBuffer` behind the newest media) when the playhead stayed more than
   * this behind it for a whole `window`, or is this far behind when it stalled. Defaults to
   * `targetBuffer` + 0.5 (0.75 for 200 ms parts).
   */
  maxBehind?: number;
  /** Time over which the buffer ahead is averaged, and a lag must last to seek. Defaults to 1, at least two parts. */
  window?: number;
  /**
   * A playing playhead that stopped moving for this long is stalled, in ms (one that has
   * not moved since a start or seek: three times this). Defaults to 300.
   */
  stallMs?: number;
  /**
   * For this long after {@link LatencyController.start}, in ms, a lag is cut by a seek
   * sooner: beyond `targetBuffer` + two parts (at least 0.3 s), held for half a window. A
   * seek right after the first frame costs little, and catching up 0.5 s at 1.1x takes 5 s.
   * Defaults to 3000; 0 turns it off.
   */
  startupMs?: number;
}

/** What one {@link LatencyController.tick} did. */
export type ControllerAction =
  /** Paused, seeking, or no media: nothing to steer. */
  | "idle"
  /** Playing at rate 1 within the tolerance. */
  | "hold"
  /** Playing at another rate to reach the target. */
  | "rate"
  /** Seeked forward to live: the playhead was too far behind. */
  | "jump"
  /** Seeked over a gap between buffered ranges (or into media from outside it). */
  | "skip"
  /** Seeked a little forward: stalled with media ahead. */
  | "nudge"
  /** Waiting for media: the playhead is at the end of what is buffered. */
  | "wait";

/** Counters of a {@link LatencyController}. */
export interface ControllerStats {
  jumps: number;
  gapSkips: number;
  nudges: number;
  stalls: number;
}

/** Below this share of the target ahead, play at `minRate` at once (stall avoidance). */
const LOW_BUFFER_SHARE = 0.3;
/** Skip a gap once the playhead is this close to the end of its range. */
const GAP_EDGE = 0.1;
/** Media needed ahead for a nudge to help, and the nudge's step. */
const NUDGE_STEP = 0.1;
/** Nudges in a row before giving up until the playhead moves again. */
const MAX_NUDGES = 3;
/** Samples kept at most (a tick every 100 ms over a 1 s window is 10). */
const MAX_SAMPLES = 256;

/**
 * Holds a live `<video>` a small, steady buffer behind the newest media appended:
 *
 * - every tick it samples how far the playhead is behind the end of the buffered media,
 *   and averages that over `window`;
 * - rate: outside `±tolerance` of `targetBuffer` it plays at `1 + gain × error` (clamped
 *   to `minRate..maxRate`, in steps of 0.01) until the average is back within a third
 *   of the tolerance (hysteresis); with less than 30 % of the target ahead it plays at
 *   `minRate` at once;
 * - jump: if the playhead stayed more than `maxBehind` behind for a whole window (or is
 *   that far behind while or right after it stalled: the picture stands still anyway), it
 *   seeks to `targetBuffer` before the end (sooner in the first seconds, see `startupMs`);
 * - gaps: a playhead at the end of a range with another range after it (at once after
 *   `waiting`), or outside any range, seeks to the next range (to live if that is the
 *   last one);
 * - stalls: a playhead that stopped moving for `stallMs` while playing with media ahead
 *   is nudged forward a little, up to three times in a row.
 *
 * Time comes from the caller (`tick(now)`), so tests drive it with a fake clock.
 */
export class LatencyController {
  readonly stats: ControllerStats = { jumps: 0, gapSkips: 0, nudges: 0, stalls: 0 };

  private readonly opts: LatencyControllerOptions;
  private samples: Array<{ at: number; behind: number }> = [];
  private partDurations: number[] = [];
  private adjusting = false;
  private lastTime = NaN;
  private lastMoveAt = 0;
  private movedSinceReset = false;
  private waitingFlag = false;
  private nudgesInRow = 0;
  private stalled = false;
  private startedAt = -Infinity;

  constructor(
    private readonly media: ControlledMedia,
    options: LatencyControllerOptions = {},
  ) {
    this.opts = { ...options };
  }

  /** The part duration the defaults follow: the longest of the last 8 parts seen. */
  get partDuration(): number {
    return this.partDurations.length > 0 ? Math.max(...this.partDurations) : 0.2;
  }

  /** The buffer the controller aims at, in seconds. */
  get targetBuffer(): number {
    return this.opts.targetBuffer ?? Math.max(0.1, 1.25 * this.partDuration);
  }

  /** Seconds behind the newest media beyond which the controller seeks to live. */
  get maxBehind(): number {
    return this.opts.maxBehind ?? this.targetBuffer + 0.5;
  }

  private get window(): number {
    return this.opts.window ?? Math.max(1, 2 * this.partDuration);
  }

  /** Tells the controller a part's duration (the defaults follow it). */
  observePart(duration: number): void {
    if (!(duration > 0) || !Number.isFinite(duration)) return;
    this.partDurations.push(duration);
    if (this.partDurations.length > 8) this.partDurations.shift();
  }

  /** The video fired `waiting`: the next tick skips a gap at the playhead at once. */
  onWaiting(): void {
    this.waitingFlag = true;
  }

  /** Playback (re)starts: the window is forgotten and the startup phase begins. */
  start(now: number): void {
    this.reset(now);
    this.startedAt = now;
  }

  /** Forgets the averaging window and the stall watch (after a seek or a discontinuity). */
  reset(now: number): void {
    this.samples = [];
    this.lastTime = this.media.currentTime;
    this.lastMoveAt = now;
    this.movedSinceReset = false;
    this.waitingFlag = false;
    this.nudgesInRow = 0;
    this.stalled = false;
  }

  /** Seeks to `t` and restarts the window. */
  private seek(t: number, now: number): void {
    this.media.currentTime = t;
    this.reset(now);
    this.setRate(1);
    this.adjusting = false;
  }

  private setRate(rate: number): void {
    if (this.media.playbackRate !== rate) this.media.playbackRate = rate;
  }

  /** The live position to seek to: `targetBuffer` before the end of the last range, inside it. */
  private liveTarget(last: Range): number {
    return Math.max(last.start, last.end - this.targetBuffer);
  }

  /** Runs the control loop once; `now` in ms (any monotonic clock). */
  tick(now: number): ControllerAction {
    const m = this.media;
    if (m.paused || m.seeking) {
      this.reset(now);
      return "idle";
    }
    const b = m.buffered;
    const live = bufferedEnd(b);
    const t = m.currentTime;
    const moved = Math.abs(t - this.lastTime) > 1e-3;
    const wasStalled = this.stalled;
    if (moved) {
      this.lastTime = t;
      this.lastMoveAt = now;
      this.movedSinceReset = true;
      this.nudgesInRow = 0;
      this.stalled = false;
    }
    const stallMs = (this.opts.stallMs ?? 300) * (this.movedSinceReset ? 1 : 3);
    const stalled = !moved && now - this.lastMoveAt >= stallMs;
    const waiting = this.waitingFlag;
    this.waitingFlag = false;
    if (stalled && !this.stalled) {
      this.stalled = true;
      this.stats.stalls++;
    }
    if (live === null) return "idle";
    const last: Range = { start: b.start(b.length - 1), end: live, index: b.length - 1 };
    const r = rangeAt(b, t);
    if (!r) {
      // Before the media, in a gap, or past its end.
      const next = rangeAfter(b, t);
      if (!next) {
        this.setRate(1);
        return "wait";
      }
      this.stats.gapSkips++;
      this.seek(next.index === last.index ? this.liveTarget(last) : next.start, now);
      return "skip";
    }
    const ahead = r.end - t;
    if (r.index < last.index && (ahead < GAP_EDGE || stalled || waiting)) {
      const next = rangeAfter(b, r.end - 1e-6) ?? last;
      this.stats.gapSkips++;
      this.seek(next.index === last.index ? this.liveTarget(last) : next.start, now);
      return "skip";
    }
    if (stalled && ahead > NUDGE_STEP && this.nudgesInRow < MAX_NUDGES) {
      this.nudgesInRow++;
      this.stats.nudges++;
      m.currentTime = Math.min(t + NUDGE_STEP * this.nudgesInRow, r.end - 0.05);
      this.lastTime = m.currentTime;
      this.lastMoveAt = now;
      return "nudge";
    }

    const target = this.targetBuffer;
    const behind = live - t;
    const windowMs = this.window * 1000;
    this.samples.push({ at: now, behind });
    while (this.samples.length > MAX_SAMPLES || (this.samples[0] && now - this.samples[0].at > windowMs)) this.samples.shift();
    let sum = 0;
    let min = Infinity;
    for (const s of this.samples) {
      sum += s.behind;
      min = Math.min(min, s.behind);
    }
    const mean = sum / this.samples.length;
    const first = this.samples[0];
    const startup = now - this.startedAt < (this.opts.startupMs ?? 3000);
    const span = first !== undefined ? now - first.at : 0;
    const lagging =
      ((wasStalled || stalled) && behind > this.maxBehind) ||
      (startup
        ? span >= windowMs * 0.5 && min > Math.min(this.maxBehind, target + Math.max(0.3, 2 * this.partDuration))
        : span >= windowMs * 0.9 && min > this.maxBehind);
    if (lagging) {
      this.stats.jumps++;
      this.seek(this.liveTarget(last), now);
      return "jump";
    }

    const minRate = this.opts.minRate ?? 0.95;
    const maxRate = this.opts.maxRate ?? 1.1;
    const tolerance = this.opts.tolerance ?? 0.1;
    const error = mean - target;
    let rate: number;
    if (ahead < LOW_BUFFER_SHARE * target && r.index === last.index) {
      this.adjusting = true;
      rate = minRate;
    } else {
      if (!this.adjusting && Math.abs(error) > tolerance) this.adjusting = true;
      else if (this.adjusting && Math.abs(error) < tolerance / 3) this.adjusting = false;
      const gain = this.opts.gain ?? 0.5;
      rate = this.adjusting ? Math.min(maxRate, Math.max(minRate, Math.round((1 + gain * error) * 100) / 100)) : 1;
    }
    this.setRate(rate);
    if (stalled && ahead <= NUDGE_STEP) return "wait";
    return rate === 1 ? "hold" : "rate";
  }
}
