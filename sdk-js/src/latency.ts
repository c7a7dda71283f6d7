/** A latency reading, in seconds. */
export interface LatencyReading {
  /**
   * Glass-to-glass: now minus the publish time of the frame on screen (hls mode: its
   * program date-time; direct mode: the `time` of the part holding it, when the relay
   * received it unless the publisher set one); null before playback.
   */
  glass: number | null;
  /** Distance from the live edge (hls mode: hls.js `latency`; direct mode: the newest media appended minus the playhead); null if unknown. */
  edge: number | null;
  /** Media buffered ahead of the playhead. */
  buffer: number;
  /** The video's playback rate (both modes change it to hold the latency). */
  playbackRate: number;
}
