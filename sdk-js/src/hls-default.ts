import Hls from "hls.js";

/** The hls.js class this build uses by default: the `hls.js` package (a peer dependency). */
export function defaultHls(): typeof Hls | undefined {
  return Hls;
}
