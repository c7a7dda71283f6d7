/**
 * Measures what a viewer sees in a `<video>`: the latency of each frame put on screen, the
 * time to the first frame, and stalls.
 *
 * - Presentation time of a frame: the wall-clock time at which the browser presents it
 *   (`requestVideoFrameCallback`'s `expectedDisplayTime` on the page's clock, plus
 *   `performance.timeOrigin`).
 * - Glass-to-glass latency: the presentation time minus the frame's publish time: the
 *   program date-time of its fragment (the publisher's wall-clock stamp of the fragment's
 *   first frame, carried by the relay) plus the frame's offset into the fragment.
 * - Relay-to-screen latency: the presentation time minus the time the relay received the
 *   part holding the frame (for a fragment received whole: the fragment's `time`).
 * - First frame: milliseconds from navigation start (`performance.timeOrigin`) to the
 *   presentation of the first video frame.
 * - A stall: the video fires `waiting` (playback stopped for lack of data) after the
 *   first frame, outside a seek. Seeks after the first frame (hls.js or the direct mode's
 *   latency controller jumping towards the live edge) are counted apart.
 */
export class PlaybackMeter {
  /** Milliseconds from navigation start to the first presented frame; null before it. */
  firstFrameMs: number | null = null;
  stalls = 0;
  /** Milliseconds spent stalled. */
  stalledMs = 0;
  seeks = 0;
  /** Glass-to-glass latency of the newest frame, in seconds. */
  latest: number | null = null;
  /** Relay-to-screen latency of the newest frame, in seconds. */
  latestRelay: number | null = null;
  private readonly glass = new Samples();
  private readonly relay = new Samples();
  private stallStart: number | null = null;
  private frameHandle: number | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly off: Array<() => void> = [];

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly source: MeterSource,
  ) {
    const on = (name: string, fn: () => void): void => {
      video.addEventListener(name, fn);
      this.off.push(() => video.removeEventListener(name, fn));
    };
    on("waiting", () => {
      if (this.firstFrameMs === null || video.seeking || this.stallStart !== null) return;
      this.stalls++;
      this.stallStart = performance.now();
    });
    on("playing", () => this.endStall());
    on("timeupdate", () => {
      if (!video.paused && video.readyState >= 3) this.endStall();
    });
    on("seeking", () => {
      if (this.firstFrameMs !== null) this.seeks++;
    });
    if (typeof video.requestVideoFrameCallback === "function") {
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
        if (this.firstFrameMs === null) this.firstFrameMs = meta.presentationTime;
        this.frame(meta.mediaTime, performance.timeOrigin + meta.expectedDisplayTime);
        this.frameHandle = video.requestVideoFrameCallback(onFrame);
      };
      this.frameHandle = video.requestVideoFrameCallback(onFrame);
    } else {
      // Without frame callbacks: the playhead, ten times a second.
      on("playing", () => {
        if (this.firstFrameMs === null) this.firstFrameMs = performance.now();
      });
      this.timer = setInterval(() => {
        if (video.paused || video.readyState < 2) return;
        this.frame(video.currentTime, Date.now());
      }, 100);
    }
  }

  /** The glass-to-glass latencies recorded since the last reset, in seconds. */
  latencySamples(): number[] {
    return this.glass.values();
  }

  /** The relay-to-screen latencies recorded since the last reset, in seconds. */
  relaySamples(): number[] {
    return this.relay.values();
  }

  /** The newest `n` glass-to-glass and relay-to-screen latencies, in seconds. */
  recent(n: number): { glass: number[]; relay: number[] } {
    return { glass: this.glass.recent(n), relay: this.relay.recent(n) };
  }

  /** Starts a new measurement window. */
  resetSamples(): void {
    this.glass.clear();
    this.relay.clear();
  }

  destroy(): void {
    for (const f of this.off) f();
    this.off.length = 0;
    if (this.frameHandle !== null) this.video.cancelVideoFrameCallback(this.frameHandle);
    clearInterval(this.timer);
  }

  /** A frame of media time `mediaTime` presented at `shownAt` (Unix ms). */
  private frame(mediaTime: number, shownAt: number): void {
    const pdt = this.source.pdtAt(mediaTime);
    if (pdt !== null) this.latest = this.glass.add((shownAt - pdt) / 1000);
    const received = this.source.relayTimeAt(mediaTime);
    if (received !== null) this.latestRelay = this.relay.add((shownAt - received) / 1000);
  }

  private endStall(): void {
    if (this.stallStart === null) return;
    this.stalledMs += performance.now() - this.stallStart;
    this.stallStart = null;
  }
}

/** Where a meter looks up the times of a media time, in Unix ms (null: unknown). */
export interface MeterSource {
  /** The publish time. */
  pdtAt(mediaTime: number): number | null;
  /** When the relay received the part (or whole fragment) holding it. */
  relayTimeAt(mediaTime: number): number | null;
}

/** Per-frame samples kept: 20 minutes at 30 frames per second. */
export const MAX_SAMPLES = 36_000;

/** The newest {@link MAX_SAMPLES} readings. */
class Samples {
  private list: number[] = [];

  add(v: number): number {
    this.list.push(v);
    if (this.list.length > MAX_SAMPLES) this.list.splice(0, this.list.length - MAX_SAMPLES);
    return v;
  }

  values(): number[] {
    return this.list.slice();
  }

  recent(n: number): number[] {
    return this.list.slice(-n);
  }

  clear(): void {
    this.list = [];
  }
}
