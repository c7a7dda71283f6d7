import type Hls from "hls.js";

/**
 * The hls.js class of the script-tag build: the global `Hls` of hls.js's own script,
 * looked up when needed, so the two scripts may load in either order.
 * (The build puts this module in place of hls-default.ts.)
 */
export function defaultHls(): typeof Hls | undefined {
  return (globalThis as { Hls?: typeof Hls }).Hls;
}
