import type { HlsConfig } from "hls.js";

/**
 * hls.js settings for the lowest latency it reaches on whole fragments of
 * `fragmentSeconds` (default 1): start and stay one fragment behind the live edge,
 * catch up by playing faster (up to 1.5x), seek forward beyond three fragments, fetch
 * the first playlist at once, keep the forward buffer short. With 1 s MPEG-TS fragments
 * hls.js 1.7 measured ~1.2 s glass-to-glass with these (its defaults: 1.3-1.6 s).
 *
 * The worker is off: it gains nothing with fragments already in memory.
 */
export function lowLatencyHlsConfig(fragmentSeconds = 1): Partial<HlsConfig> {
  const d = Number.isFinite(fragmentSeconds) && fragmentSeconds > 0 ? fragmentSeconds : 1;
  return {
    lowLatencyMode: true,
    liveSyncDuration: d,
    liveMaxLatencyDuration: 3 * d,
    maxLiveSyncPlaybackRate: 1.5,
    initialLiveManifestSize: 1,
    maxBufferLength: Math.max(3, 3 * d),
    backBufferLength: Math.max(10, 10 * d),
    enableWorker: false,
  };
}

/** The keys of {@link lowLatencyHlsConfig} that depend on the fragment duration. */
export const durationDependentKeys = ["liveSyncDuration", "liveMaxLatencyDuration", "maxBufferLength", "backBufferLength"] as const;

/** `PART-HOLD-BACK` and {@link lowLatencyPartsHlsConfig}'s live sync distance, in part durations. */
export const PART_HOLD_BACK_PARTS = 3;

/**
 * hls.js settings for a stream received in parts (LL-HLS, see `RelayClientOptions.parts`), with
 * parts of `partSeconds` (default 0.2) in fragments of `fragmentSeconds` (default 1): play
 * {@link PART_HOLD_BACK_PARTS} parts behind the newest part (the `PART-HOLD-BACK` the store
 * writes), add one part per stall rather than hls.js's 1 s, seek forward beyond three
 * fragments, fetch the first playlist at once, keep the forward buffer short.
 *
 * `liveSyncDuration` is set (to the hold-back) because `liveMaxLatencyDuration` needs it;
 * hls.js then uses it instead of the playlist's `PART-HOLD-BACK`.
 */
export function lowLatencyPartsHlsConfig(partSeconds = 0.2, fragmentSeconds = 1): Partial<HlsConfig> {
  const p = Number.isFinite(partSeconds) && partSeconds > 0 ? partSeconds : 0.2;
  const d = Number.isFinite(fragmentSeconds) && fragmentSeconds > 0 ? Math.max(fragmentSeconds, p) : 1;
  const sync = PART_HOLD_BACK_PARTS * p;
  return {
    lowLatencyMode: true,
    liveSyncDuration: sync,
    liveMaxLatencyDuration: Math.max(3 * d, sync + 1),
    liveSyncOnStallIncrease: p,
    maxLiveSyncPlaybackRate: 1.5,
    initialLiveManifestSize: 1,
    maxBufferLength: Math.max(3, 3 * d),
    backBufferLength: Math.max(10, 10 * d),
    enableWorker: false,
  };
}
