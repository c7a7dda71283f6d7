import { toWebSocketURL } from "./client";

/** What a native-HLS fallback URL is built from. */
export interface FallbackInfo {
  /** The relay's WebSocket URL. */
  url: string;
  stream: string;
  token: string;
}

/**
 * The relay's HLS-over-HTTP URL of a stream, derived from its WebSocket URL:
 * `ws(s)://host[:port]/...` becomes `http(s)://host[:port]/hls/{stream}/index.m3u8?token=...`
 * (each part of the stream id percent-encoded, its `/` kept).
 */
export function defaultFallbackUrl(info: FallbackInfo): string {
  const u = new URL(toWebSocketURL(info.url));
  const scheme = u.protocol === "wss:" ? "https:" : "http:";
  const path = info.stream.split("/").map(encodeURIComponent).join("/");
  let s = `${scheme}//${u.host}/hls/${path}/index.m3u8`;
  if (info.token !== "") s += `?token=${encodeURIComponent(info.token)}`;
  return s;
}
