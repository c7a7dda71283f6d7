/** Plain figures the page shows and the browser tests report; no DOM here. */

/** The p-th percentile (0-100) of `values` by the nearest-rank method, or null if there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] ?? null;
}

/** Median, 95th percentile and range of a set of readings. */
export interface Summary {
  count: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Summarises `values`, or returns null if there are none. */
export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { count: values.length, median: percentile(values, 50) ?? 0, p95: percentile(values, 95) ?? 0, min, max };
}

/** The media bitrate over the most recent fragments: their bits divided by their duration. */
export class RollingBitrate {
  private readonly recent: Array<{ bytes: number; seconds: number }> = [];

  constructor(private readonly size = 5) {}

  /** Adds a fragment of `bytes` that plays for `seconds`. */
  add(bytes: number, seconds: number): void {
    if (!(bytes >= 0) || !(seconds > 0)) return;
    this.recent.push({ bytes, seconds });
    if (this.recent.length > this.size) this.recent.shift();
  }

  /** Bits per second, or null before the first fragment. */
  get bitsPerSecond(): number | null {
    let bytes = 0;
    let seconds = 0;
    for (const f of this.recent) {
      bytes += f.bytes;
      seconds += f.seconds;
    }
    return seconds > 0 ? (bytes * 8) / seconds : null;
  }
}

/** Formats seconds as "1.23 s", or "–" for null. */
export function formatSeconds(s: number | null | undefined, digits = 2): string {
  return s === null || s === undefined || !Number.isFinite(s) ? "–" : `${s.toFixed(digits)} s`;
}

/** Formats bits per second as "412 kbit/s" or "2.50 Mbit/s", or "–" for null. */
export function formatBitrate(bps: number | null): string {
  if (bps === null || !Number.isFinite(bps)) return "–";
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}
