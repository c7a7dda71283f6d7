import type { Fragment, InitSegment, Part, RelayClientEvents } from "../client";
import { Emitter } from "../emitter";
import { RelayError } from "../errors";
import type { LatencyReading } from "../latency";
import { MseAppender, type SourceBufferLike } from "./appender";
import { LatencyController, type ControllerStats, type LatencyControllerOptions } from "./controller";
import { defaultMediaSource, isManaged, type MediaSourceClass, type MediaSourceLike } from "./media-source";
import { isMpegTs, parseChunk, parseInit, type ChunkInfo, type InitInfo } from "./mp4";
import { bufferedAhead, bufferedEnd, type Range, type TimeRangesLike } from "./ranges";
import { PartTimeline } from "./timeline";
import { sameBytes } from "../bytes";

/** The events a {@link DirectPlayer} reads from its source (a {@link RelayClient} created with `parts: true`). */
export type DirectSourceEvents = Pick<RelayClientEvents, "open" | "init" | "part" | "fragment" | "ended">;

/** Where a {@link DirectPlayer} gets the stream: a `RelayClient` with `parts: true`, or a stand-in. */
export interface DirectSource {
  on<K extends keyof DirectSourceEvents>(name: K, listener: (...args: DirectSourceEvents[K]) => void): () => void;
}

/** Why the direct mode cannot play a stream (here): {@link attach} then plays it with hls.js. */
export type DirectFallbackReason =
  /** No Media Source Extensions in this browser. */
  | "unsupported"
  /** The relay did not confirm the parts extension (`parts=1`). */
  | "no-parts"
  /** The stream is MPEG-TS (sent in whole fragments). */
  | "mpegts"
  /** Media arrived without an init segment, or one that cannot be read. */
  | "no-init"
  /** The browser cannot play the stream's codecs through MSE. */
  | "codec";

/** Events of {@link DirectPlayer}. */
export type DirectPlayerEvents = {
  /** This stream cannot be played directly here; the player stops and waits to be destroyed. */
  fallback: [info: { reason: DirectFallbackReason; detail: string }];
  /** Playback failed for good (`MEDIA_ERROR`): media errors kept coming after recoveries. */
  error: [error: RelayError];
};

/** Options of {@link DirectPlayer}. */
export interface DirectPlayerOptions {
  /** Latency controller settings. */
  latency?: LatencyControllerOptions;
  /** Seconds of played media kept behind the playhead. Defaults to 10. */
  backBuffer?: number;
  /** Call `video.play()` once the first part is appended. Defaults to true (set `video.muted` for autoplay). */
  autoplay?: boolean;
  /** How often the latency controller runs, in ms. Defaults to 100. */
  intervalMs?: number;
  /** The `MediaSource` class. Defaults to the browser's (`ManagedMediaSource` where only that exists). */
  MediaSource?: MediaSourceClass;
}

/** Counters of a {@link DirectPlayer}. */
export interface DirectStats extends ControllerStats {
  /** Parts (and whole fMP4 fragments) appended. */
  parts: number;
  /** Their bytes. */
  bytes: number;
  /** Init segments appended (first, after a change, after a discontinuity or a recovery). */
  inits: number;
  /** Parts not played: before the first independent part, or dropped for lack of buffer space. */
  dropped: number;
  /** Media errors recovered from by starting over with a new MediaSource. */
  recoveries: number;
  /** Milliseconds from the player's creation to the first frame playing; null before. */
  firstFrameMs: number | null;
}

type Item =
  | { kind: "init"; data: ArrayBuffer }
  | { kind: "flush" }
  | { kind: "part"; part: Part; chunk: ChunkInfo | null; seek: boolean };

/** Items held until the SourceBuffer exists; beyond this the oldest parts go. */
const MAX_PENDING = 100;
/** Bytes queued for appending beyond which the queue is dropped and playback resumes at the next independent part. */
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** A part whose start is this far (seconds) from the previous part's end starts a new timeline. */
const TIMELINE_JUMP = 0.5;
/** Recoveries allowed per minute before giving up. */
const MAX_RECOVERIES = 3;

const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

/**
 * Plays a stream received in parts (fMP4/CMAF) straight through Media Source Extensions,
 * without hls.js: each part is appended the moment it arrives, and a
 * {@link LatencyController} holds the playhead a small buffer behind the newest media.
 *
 * - Start: the MediaSource opens while the connection is made; the first init segment
 *   creates one SourceBuffer for all its tracks (`segments` mode: parts carry their own
 *   timestamps); the first independent part is appended after it, and playback seeks to
 *   the start of the buffered media and plays.
 * - A new init segment (other bytes) is appended before the next part (`changeType`, or
 *   a new MediaSource, when the codecs change); a discontinuity re-appends the init and
 *   waits for an independent part; a part whose time does not follow the previous one's
 *   starts a new timeline: the player seeks there (removing all media first if the
 *   timeline went back).
 * - Media more than `backBuffer` behind the playhead is removed; `QuotaExceededError`
 *   removes more and retries once. A media error starts over with a new MediaSource (3
 *   times a minute at most, then `error`).
 * - Latency: each part's media time range is recorded with its publish time, so
 *   `latency().glass` is now minus the `time` of the part holding the frame on screen.
 *
 * It emits `fallback` when the stream or browser does not allow direct playback
 * (MPEG-TS, no parts, unsupported codecs); it then does nothing more.
 */
export class DirectPlayer extends Emitter<DirectPlayerEvents> {
  /** The latency controller (its settings follow the part duration). */
  readonly controller: LatencyController;
  /** Which part holds which media time. */
  readonly timeline = new PartTimeline();

  private readonly MS: MediaSourceClass;
  private readonly counters = { parts: 0, bytes: 0, inits: 0, dropped: 0, recoveries: 0, firstFrameMs: null as number | null };
  private readonly createdAt = now();
  private readonly offs: Array<() => void> = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private ms: MediaSourceLike | null = null;
  private url: string | null = null;
  private appender: MseAppender | null = null;
  private mime: string | null = null;
  private init: { info: InitInfo; data: ArrayBuffer } | null = null;
  private initDirty = false;
  private needKey = true;
  private pending: Item[] = [];
  private lastChunkEnd: number | null = null;
  private lastBufferedEnd: number | null = null;
  private started = false;
  private ended = false;
  private stopped = false;
  private recoveryTimes: number[] = [];

  constructor(
    readonly video: HTMLVideoElement,
    source: DirectSource,
    private readonly options: DirectPlayerOptions = {},
  ) {
    super();
    const MS = options.MediaSource ?? defaultMediaSource();
    if (!MS) throw new RelayError("MEDIA_ERROR", "Media Source Extensions are not available");
    this.MS = MS;
    this.controller = new LatencyController(video, options.latency);
    this.offs.push(
      source.on("open", (info) => this.onOpen(info)),
      source.on("init", (init) => this.onInit(init)),
      source.on("part", (part) => this.onPart(part)),
      source.on("fragment", (f) => this.onFragment(f)),
      source.on("ended", () => this.onEnded()),
    );
    const listen = (type: string, fn: () => void): void => {
      video.addEventListener(type, fn);
      this.offs.push(() => video.removeEventListener(type, fn));
    };
    listen("waiting", () => {
      this.controller.onWaiting();
      this.tick();
    });
    listen("playing", () => {
      if (this.counters.firstFrameMs === null && this.started) this.counters.firstFrameMs = Math.round(now() - this.createdAt);
    });
    listen("error", () => this.onVideoError());
    this.timer = setInterval(() => this.tick(), options.intervalMs ?? 100);
    this.openMediaSource();
  }

  /** Whether the direct mode can work in this browser (Media Source Extensions). */
  static isSupported(MS: MediaSourceClass | undefined = defaultMediaSource()): boolean {
    return MS !== undefined;
  }

  /** Counters since creation. */
  get stats(): DirectStats {
    return { ...this.counters, ...this.controller.stats };
  }

  /** The init segment's tracks and MIME type, once one arrived. */
  get initInfo(): InitInfo | null {
    return this.init?.info ?? null;
  }

  /** The latency now; see {@link LatencyReading}. */
  latency(): LatencyReading {
    const v = this.video;
    const t = v.currentTime;
    const b = this.buffered();
    const span = this.started ? this.timeline.at(t) : undefined;
    const end = b ? bufferedEnd(b) : null;
    return {
      glass: span?.time !== undefined ? (Date.now() - span.time) / 1000 : null,
      edge: this.started && end !== null ? Math.max(0, end - t) : null,
      buffer: bufferedAhead(b, t),
      playbackRate: v.playbackRate,
    };
  }

  /** Stops, detaches from the video and releases the media. No event is emitted afterwards. */
  destroy(): void {
    if (this.stopped && this.offs.length === 0) return;
    this.stopped = true;
    clearInterval(this.timer);
    for (const off of this.offs.splice(0)) off();
    this.closeMediaSource();
    this.video.removeAttribute("src");
    this.video.load();
    this.pending = [];
    this.timeline.clear();
    this.removeAllListeners();
  }

  // --- the MediaSource ---

  private openMediaSource(): void {
    const ms = new this.MS();
    this.ms = ms;
    const onOpen = (): void => {
      ms.removeEventListener("sourceopen", onOpen);
      if (this.url !== null) URL.revokeObjectURL(this.url);
      this.url = null;
      if (ms === this.ms) this.createSourceBuffer();
    };
    ms.addEventListener("sourceopen", onOpen);
    if (isManaged(this.MS)) (this.video as HTMLVideoElement & { disableRemotePlayback: boolean }).disableRemotePlayback = true;
    this.url = URL.createObjectURL(ms as unknown as Blob);
    this.video.src = this.url;
  }

  private closeMediaSource(): void {
    this.appender?.destroy();
    this.appender = null;
    this.mime = null;
    this.ms = null;
    if (this.url !== null) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  private createSourceBuffer(): void {
    const ms = this.ms;
    const init = this.init;
    if (this.stopped || !ms || !init || this.appender || ms.readyState !== "open") return;
    let sb: SourceBufferLike;
    try {
      sb = ms.addSourceBuffer(init.info.mimeType);
    } catch (err) {
      this.fallback("codec", `addSourceBuffer(${init.info.mimeType}): ${String(err)}`);
      return;
    }
    this.mime = init.info.mimeType;
    this.appender = new MseAppender(
      sb,
      {
        playhead: () => this.video.currentTime,
        onFatal: (err) => this.recover(err.message),
        onDropped: () => {
          this.counters.dropped++;
          this.needKey = true;
        },
      },
      { backBuffer: this.options.backBuffer },
    );
    const items = this.pending;
    this.pending = [];
    for (const item of items) this.enqueue(item);
  }

  /** Starts over with a new MediaSource after a media error. */
  private recover(reason: string): void {
    if (this.stopped) return;
    const t = Date.now();
    this.recoveryTimes = this.recoveryTimes.filter((x) => t - x < 60_000);
    if (this.recoveryTimes.length >= MAX_RECOVERIES) {
      this.stopped = true;
      this.closeMediaSource();
      this.emit("error", new RelayError("MEDIA_ERROR", `direct playback failed: ${reason}`));
      return;
    }
    this.recoveryTimes.push(t);
    this.counters.recoveries++;
    this.closeMediaSource();
    this.pending = [];
    this.started = false;
    this.initDirty = true;
    this.needKey = true;
    this.lastChunkEnd = null;
    this.lastBufferedEnd = null;
    this.timeline.clear();
    this.openMediaSource();
  }

  private onVideoError(): void {
    const code = this.video.error?.code;
    // A decode error, or media the browser refused: start over; an aborted load is ours.
    if (code !== undefined && code !== 1 && this.ms !== null) this.recover(`video error ${code}: ${this.video.error?.message ?? ""}`);
  }

  // --- the stream ---

  private onOpen(info: DirectSourceEvents["open"][0]): void {
    if (!info.parts) this.fallback("no-parts", info.ext ? "the relay did not confirm parts=1" : "the relay does not speak the protocol extensions");
  }

  private onInit(seg: InitSegment): void {
    if (this.stopped) return;
    if (this.init && sameBytes(this.init.data, seg.data)) return; // sent again after a reconnect
    const info = parseInit(seg.data);
    if (!info) {
      this.fallback("no-init", "the init segment cannot be read");
      return;
    }
    if (!this.MS.isTypeSupported(info.mimeType)) {
      this.fallback("codec", `${info.mimeType} is not supported`);
      return;
    }
    this.init = { info, data: seg.data };
    this.initDirty = true;
    this.needKey = true;
    if (this.appender && this.mime !== info.mimeType) {
      if (this.appender.changeType(info.mimeType)) this.mime = info.mimeType;
      else {
        this.recover("the codecs changed");
        return;
      }
    }
    this.createSourceBuffer();
  }

  private onFragment(f: Fragment): void {
    if (this.stopped || f.parts !== undefined) return; // received in parts: appended already
    if (!this.init) {
      if (isMpegTs(f.data)) this.fallback("mpegts", "the stream is MPEG-TS");
      else this.fallback("no-init", "a whole fragment arrived without an init segment");
      return;
    }
    // An fMP4 fragment sent whole: played like a part.
    const part: Part = {
      seq: f.seq,
      index: 0,
      epoch: f.epoch,
      duration: f.duration,
      independent: parseChunk(f.data, this.init.info)?.independent ?? true,
      disc: f.disc,
      data: f.data,
      receivedAt: f.receivedAt,
    };
    if (f.time !== undefined) part.time = f.time;
    this.onPart(part);
  }

  private onPart(part: Part): void {
    if (this.stopped) return;
    const init = this.init;
    if (!init) {
      this.counters.dropped++;
      return;
    }
    this.controller.observePart(part.duration);
    if (part.disc) {
      this.initDirty = true;
      this.needKey = true;
    }
    const chunk = parseChunk(part.data, init.info);
    if (this.needKey && !(part.independent || chunk?.independent === true)) {
      this.counters.dropped++;
      return;
    }
    this.needKey = false;
    let seek = false;
    if (chunk && this.lastChunkEnd !== null && Math.abs(chunk.start - this.lastChunkEnd) > TIMELINE_JUMP) {
      // A new timeline: play from this part; media of the old one that lies ahead would
      // pass for the live edge if the timeline went back, so it goes.
      seek = true;
      if (chunk.start < this.lastChunkEnd) {
        this.enqueue({ kind: "flush" });
        this.initDirty = true;
      }
    }
    if (chunk) this.lastChunkEnd = chunk.end;
    if (this.initDirty) {
      this.initDirty = false;
      this.enqueue({ kind: "init", data: init.data });
    }
    this.enqueue({ kind: "part", part, chunk, seek });
  }

  private onEnded(): void {
    this.ended = true;
    this.endIfDone();
  }

  private fallback(reason: DirectFallbackReason, detail: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.emit("fallback", { reason, detail });
  }

  // --- appending ---

  private enqueue(item: Item): void {
    const a = this.appender;
    if (!a) {
      this.pending.push(item);
      if (this.pending.length > MAX_PENDING) {
        // Keep the init segments; drop the oldest parts, then wait for a key frame.
        const i = this.pending.findIndex((x) => x.kind === "part");
        if (i >= 0) {
          this.pending.splice(i, 1);
          this.counters.dropped++;
          this.needKey = true;
        }
      }
      return;
    }
    if (item.kind === "init") {
      a.append(item.data, () => this.counters.inits++);
    } else if (item.kind === "flush") {
      a.removeAll();
      this.timeline.clear();
      this.lastBufferedEnd = null;
    } else {
      if (a.queuedBytes > MAX_QUEUED_BYTES) {
        // The browser does not keep up: drop what waits, resume at the next key frame.
        this.counters.dropped += a.dropQueuedAppends();
        this.needKey = true;
        this.initDirty = true;
        return;
      }
      a.append(item.part.data, (ranges) => this.onAppended(item.part, item.chunk, item.seek, ranges));
    }
  }

  private onAppended(part: Part, chunk: ChunkInfo | null, seek: boolean, ranges: Range[]): void {
    this.counters.parts++;
    this.counters.bytes += part.data.byteLength;
    const last = ranges[ranges.length - 1];
    const end = last?.end ?? null;
    // The part's media time: from its moof, or else from how far the buffered end moved.
    let start = chunk?.start;
    let stop = chunk?.end;
    if (start === undefined && end !== null && last && (this.lastBufferedEnd === null || end > this.lastBufferedEnd)) {
      start = this.lastBufferedEnd !== null && this.lastBufferedEnd >= last.start ? this.lastBufferedEnd : last.start;
      stop = end;
    }
    if (end !== null) this.lastBufferedEnd = end;
    if (start !== undefined && stop !== undefined) {
      const span = { start, end: stop, seq: part.seq, index: part.index, epoch: part.epoch, receivedAt: part.receivedAt, time: part.time };
      if (span.time === undefined) delete span.time;
      this.timeline.add(span);
    }
    if (!this.started || seek) this.seekInto(ranges, start ?? ranges[0]?.start);
    this.endIfDone();
  }

  /** Seeks to the start of the range holding `at` (the first frame of new media), and plays. */
  private seekInto(ranges: Range[], at: number | undefined): void {
    if (at === undefined) return;
    const r = ranges.find((x) => at >= x.start - 0.1 && at < x.end) ?? ranges.find((x) => x.start >= at);
    if (!r) return;
    const v = this.video;
    if (!(v.currentTime >= r.start && v.currentTime < r.end)) v.currentTime = r.start;
    if (this.started) this.controller.reset(now());
    else {
      this.started = true;
      this.controller.start(now());
      if (this.options.autoplay !== false) {
        try {
          void v.play()?.catch(() => undefined);
        } catch {
          // play() threw synchronously (old browsers): the user starts playback
        }
      }
    }
  }

  private endIfDone(): void {
    const ms = this.ms;
    if (!this.ended || !ms || !this.appender?.idle || ms.readyState !== "open") return;
    try {
      ms.endOfStream();
    } catch {
      // closed meanwhile
    }
  }

  private buffered(): TimeRangesLike | null {
    try {
      return this.video.buffered;
    } catch {
      return null;
    }
  }

  private tick(): void {
    if (this.stopped || !this.started) return;
    this.controller.tick(now());
    const t = this.video.currentTime;
    this.timeline.pruneBefore(t - (this.options.backBuffer ?? 10) - 1);
  }
}
