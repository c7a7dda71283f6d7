/**
 * Measures what a viewer sees in a `<video>`: glass-to-glass latency of each frame put
 * on screen, the time to the first frame, and stalls.
 *
 * - Glass-to-glass latency of a frame: the wall-clock time at which the browser
 *   presents it (`requestVideoFrameCallback`'s `expectedDisplayTime` on the page's
 *   clock, plus `performance.timeOrigin`) minus its publish time: the program
 *   date-time of its fragment (the publisher's wall-clock stamp of the fragment's first
 *   frame, carried by the relay) plus the frame's offset into the fragment.
 * - First frame: milliseconds from navigation start (`performance.timeOrigin`) to the
 *   presentation of the first video frame.
 * - A stall: the video fires `waiting` (playback stopped for lack of data) after the
 *   first frame, outside a seek. Seeks after the first frame (hls.js jumping towards the
 *   live edge) are counted apart.
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
  /** Per-frame latencies (seconds) since the last {@link resetSamples}, the newest {@link MAX_SAMPLES}. */
  private samples: number[] = [];
  private stallStart: number | null = null;
  private frameHandle: number | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly off: Array<() => void> = [];

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly pdtAt: (mediaTime: number) => number | null,
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
        const pdt = this.pdtAt(meta.mediaTime);
        if (pdt !== null) this.record((performance.timeOrigin + meta.expectedDisplayTime - pdt) / 1000);
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
        const pdt = this.pdtAt(video.currentTime);
        if (pdt !== null) this.record((Date.now() - pdt) / 1000);
      }, 100);
    }
  }

  /** The per-frame latencies recorded since the last reset, in seconds. */
  latencySamples(): number[] {
    return this.samples.slice();
  }

  /** Starts a new measurement window. */
  resetSamples(): void {
    this.samples = [];
  }

  destroy(): void {
    for (const f of this.off) f();
    this.off.length = 0;
    if (this.frameHandle !== null) this.video.cancelVideoFrameCallback(this.frameHandle);
    clearInterval(this.timer);
  }

  private record(seconds: number): void {
    this.latest = seconds;
    this.samples.push(seconds);
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
  }

  private endStall(): void {
    if (this.stallStart === null) return;
    this.stalledMs += performance.now() - this.stallStart;
    this.stallStart = null;
  }
}

/** Per-frame samples kept: 20 minutes at 30 frames per second. */
export const MAX_SAMPLES = 36_000;
