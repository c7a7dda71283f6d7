import { snapshot, type Range, type TimeRangesLike } from "./ranges";

/** The part of a `SourceBuffer` the appender uses (a real one, or a stand-in in tests). */
export interface SourceBufferLike {
  mode: AppendMode;
  readonly updating: boolean;
  readonly buffered: TimeRangesLike;
  appendBuffer(data: ArrayBuffer): void;
  remove(start: number, end: number): void;
  changeType?(type: string): void;
  addEventListener(type: "updateend" | "error", listener: () => void): void;
  removeEventListener(type: "updateend" | "error", listener: () => void): void;
}

/** What the appender asks of its owner. */
export interface AppenderHooks {
  /** The playhead, in seconds (media older than `backBuffer` behind it is removed). */
  playhead(): number;
  /** The SourceBuffer failed (a decode or parse error, or it was removed): it cannot go on. */
  onFatal(error: Error): void;
  /** An append was dropped: the buffer is full even after removing old media. */
  onDropped(bytes: number): void;
}

/** Options of {@link MseAppender}. */
export interface AppenderOptions {
  /** Seconds of media kept behind the playhead. Defaults to 10. */
  backBuffer?: number;
  /** Seconds of media kept at most behind the newest media, even ahead of a paused playhead. Defaults to 30. */
  maxBuffer?: number;
}

type Op =
  | { kind: "append"; data: ArrayBuffer; done?: (buffered: Range[]) => void; retried: boolean }
  | { kind: "remove"; start: number; end: number }
  | { kind: "changeType"; type: string };

/** Old media is removed in steps of at least this many seconds (fewer remove operations). */
const EVICT_STEP = 1;

/**
 * Appends to one SourceBuffer in `segments` mode (the media carries its own
 * timestamps): a queue of appends, removals and type changes run one at a time, old
 * media removed behind the playhead after each append, and `QuotaExceededError`
 * answered by removing old media and trying once more (then the append is dropped).
 */
export class MseAppender {
  private queue: Op[] = [];
  private current: Op | null = null;
  private closed = false;
  private readonly backBuffer: number;
  private readonly maxBuffer: number;

  constructor(
    private readonly sb: SourceBufferLike,
    private readonly hooks: AppenderHooks,
    options: AppenderOptions = {},
  ) {
    this.backBuffer = options.backBuffer ?? 10;
    this.maxBuffer = Math.max(options.maxBuffer ?? 30, this.backBuffer + 1);
    sb.mode = "segments";
    sb.addEventListener("updateend", this.onUpdateEnd);
    sb.addEventListener("error", this.onError);
  }

  /** Bytes waiting to be appended. */
  get queuedBytes(): number {
    let n = 0;
    for (const op of this.queue) if (op.kind === "append") n += op.data.byteLength;
    return n;
  }

  /** Whether nothing is queued or running. */
  get idle(): boolean {
    return this.current === null && this.queue.length === 0;
  }

  /** The buffered ranges now (empty once the SourceBuffer is gone). */
  buffered(): Range[] {
    try {
      return snapshot(this.sb.buffered);
    } catch {
      return [];
    }
  }

  /** Queues `data`; `done` gets the buffered ranges after it was appended. */
  append(data: ArrayBuffer, done?: (buffered: Range[]) => void): void {
    this.push({ kind: "append", data, done, retried: false });
  }

  /** Queues the removal of `start..end`. */
  remove(start: number, end: number): void {
    if (end > start) this.push({ kind: "remove", start, end });
  }

  /** Queues the removal of all buffered media (before a timeline jump). */
  removeAll(): void {
    this.push({ kind: "remove", start: 0, end: Infinity });
  }

  /** Queues a codec change; false if the browser cannot change the type of a SourceBuffer. */
  changeType(type: string): boolean {
    if (typeof this.sb.changeType !== "function") return false;
    this.push({ kind: "changeType", type });
    return true;
  }

  /** Drops the queued appends that have not started (keeps removals and type changes). */
  dropQueuedAppends(): number {
    const before = this.queue.length;
    this.queue = this.queue.filter((op) => op.kind !== "append");
    return before - this.queue.length;
  }

  /** Stops: nothing more runs. */
  destroy(): void {
    this.closed = true;
    this.queue = [];
    this.sb.removeEventListener("updateend", this.onUpdateEnd);
    this.sb.removeEventListener("error", this.onError);
  }

  private push(op: Op): void {
    if (this.closed) return;
    this.queue.push(op);
    this.next();
  }

  private next(): void {
    if (this.closed || this.current !== null) return;
    let updating: boolean;
    try {
      updating = this.sb.updating;
    } catch {
      updating = false;
    }
    if (updating) return;
    const op = this.queue.shift();
    if (!op) return;
    this.current = op;
    try {
      this.run(op);
    } catch (err) {
      this.current = null;
      this.failed(op, err);
    }
  }

  private run(op: Op): void {
    switch (op.kind) {
      case "append":
        this.sb.appendBuffer(op.data);
        return;
      case "remove": {
        const r = this.buffered();
        const first = r[0];
        const last = r[r.length - 1];
        const start = Math.max(op.start, first?.start ?? 0);
        const end = Math.min(op.end, last?.end ?? 0);
        if (!first || !last || end <= start) {
          // Nothing there: the operation completes at once.
          this.current = null;
          this.next();
          return;
        }
        this.sb.remove(start, end);
        return;
      }
      case "changeType":
        this.sb.changeType?.(op.type);
        this.current = null;
        this.next();
        return;
    }
  }

  private failed(op: Op, err: unknown): void {
    if (op.kind === "append" && isQuotaError(err)) {
      const removal = op.retried ? null : this.freeSpace();
      if (removal) {
        // Remove old media, then try this append once more, before anything else.
        this.queue.unshift(removal, { ...op, retried: true });
        this.next();
        return;
      }
      this.hooks.onDropped(op.data.byteLength);
      this.next();
      return;
    }
    this.closed = true;
    this.queue = [];
    this.hooks.onFatal(err instanceof Error ? err : new Error(String(err)));
  }

  /** The removal of everything but a second behind the playhead; null if there is nothing to remove. */
  private freeSpace(): Op | null {
    const first = this.buffered()[0];
    const t = this.hooks.playhead();
    if (!first || first.start >= t - 1) return null;
    return { kind: "remove", start: first.start, end: t - 1 };
  }

  private readonly onUpdateEnd = (): void => {
    const op = this.current;
    this.current = null;
    if (this.closed) return;
    if (op?.kind === "append") {
      const r = this.buffered();
      op.done?.(r);
      this.evict(r);
    }
    this.next();
  };

  private readonly onError = (): void => {
    const op = this.current;
    this.current = null;
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.hooks.onFatal(new Error(op?.kind === "append" ? "the browser could not append the media (SourceBuffer error)" : "SourceBuffer error"));
  };

  /** Queues the removal of media more than `backBuffer` behind the playhead (or `maxBuffer` behind the newest). */
  private evict(r: Range[]): void {
    const first = r[0];
    const last = r[r.length - 1];
    if (!first || !last) return;
    const before = Math.max(this.hooks.playhead() - this.backBuffer, last.end - this.maxBuffer);
    if (before - first.start >= EVICT_STEP && !this.queue.some((o) => o.kind === "remove")) {
      this.queue.push({ kind: "remove", start: first.start, end: before });
    }
  }
}

function isQuotaError(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { name?: unknown }).name === "QuotaExceededError";
}
