import { defaultFallbackUrl } from "hlsrelay";

/** How the page gets the stream: the relay's WebSocket (SDK loaders) or its HLS over HTTP. */
export type Transport = "ws" | "hls";

/**
 * How one `<video>` plays:
 * - `fragments`: hls.js through the SDK, whole fragments (an MPEG-TS stream);
 * - `parts`: hls.js through the SDK, LL-HLS from the parts of an fMP4/CMAF stream;
 * - `direct`: the SDK's direct mode, the parts appended to MSE (`attach(..., { mode: "direct" })`).
 */
export type PlayMode = "fragments" | "parts" | "direct";

/** What the page shows: one of the {@link PlayMode}s, or `compare`: `parts` and `direct` side by side. */
export type Mode = PlayMode | "compare";

export const MODES: readonly Mode[] = ["fragments", "parts", "direct", "compare"];

/** What each mode is called on the page. */
export const MODE_LABELS: Record<Mode, string> = {
  fragments: "hls.js, whole fragments",
  parts: "hls.js, LL-HLS parts",
  direct: "direct (MSE parts)",
  compare: "compare: parts in hls.js and direct",
};

/** The players of a mode, left to right. */
export function modePanes(mode: Mode): PlayMode[] {
  return mode === "compare" ? ["parts", "direct"] : [mode];
}

/** What the page plays. */
export interface DemoSettings {
  /** The relay's WebSocket URL, `ws(s)://host[:port]/`. */
  relay: string;
  /** The stream; in parts (fMP4/CMAF) for the modes `parts`, `direct` and `compare`. */
  stream: string;
  /** A PULL token for `stream`; empty for relays without `PULL_SECRET`. */
  token: string;
  /** The stream the `fragments` mode plays (an MPEG-TS stream); empty: `stream`. */
  fragmentsStream: string;
  /** A PULL token for `fragmentsStream`. */
  fragmentsToken: string;
  mode: Mode;
  transport: Transport;
  /** hls.js logs to the console (`debug=1` in the query). */
  debug: boolean;
}

/** The parts of `window.location` the settings come from. */
export interface PageLocation {
  protocol: string;
  host: string;
  search: string;
}

/**
 * The relay that served the page, `ws(s)://host/`: the default relay, right when a relay
 * serves the page itself (`DEMO_PAGE_ENABLED`). Empty for a page opened from a file.
 */
export function sameOriginRelay(loc: PageLocation): string {
  if (loc.protocol !== "http:" && loc.protocol !== "https:") return "";
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/`;
}

/**
 * Reads the settings from the page's query: `relay`, `stream`, `token`, `fragments_stream`,
 * `fragments_token`, `mode` (`fragments`, `parts`, `direct` or `compare`; default
 * `fragments`), `transport` (`ws` or `hls`), `debug`.
 */
export function readSettings(loc: PageLocation): DemoSettings {
  const q = new URLSearchParams(loc.search);
  const text = (k: string): string => (q.get(k) ?? "").trim();
  const mode = text("mode") as Mode;
  return {
    relay: text("relay") || sameOriginRelay(loc),
    stream: text("stream"),
    token: text("token"),
    fragmentsStream: text("fragments_stream"),
    fragmentsToken: text("fragments_token"),
    mode: MODES.includes(mode) ? mode : "fragments",
    transport: q.get("transport") === "hls" ? "hls" : "ws",
    debug: q.get("debug") === "1",
  };
}

/** The query that gives `s` back through {@link readSettings}; the default relay, mode and transport are left out. */
export function settingsSearch(s: DemoSettings, loc: PageLocation): string {
  const q = new URLSearchParams();
  if (s.relay !== "" && s.relay !== sameOriginRelay(loc)) q.set("relay", s.relay);
  if (s.mode !== "fragments") q.set("mode", s.mode);
  q.set("stream", s.stream);
  if (s.token !== "") q.set("token", s.token);
  if (s.fragmentsStream !== "") q.set("fragments_stream", s.fragmentsStream);
  if (s.fragmentsToken !== "") q.set("fragments_token", s.fragmentsToken);
  if (s.transport !== "ws") q.set("transport", s.transport);
  if (s.debug) q.set("debug", "1");
  // "/" and "~" are common in stream ids and need no escaping in a query.
  return "?" + q.toString().replace(/%2F/gi, "/").replace(/%7E/gi, "~");
}

/** The stream and token a player of mode `m` plays: `fragments` plays `fragmentsStream` when set. */
export function streamFor(s: DemoSettings, m: PlayMode): { stream: string; token: string } {
  if (m === "fragments" && s.fragmentsStream !== "") return { stream: s.fragmentsStream, token: s.fragmentsToken };
  return { stream: s.stream, token: s.token };
}

/** What is wrong with `s`, in words for the person, or null. */
export function checkSettings(s: DemoSettings): string | null {
  if (s.stream === "") return "Enter the id of a stream, for example demo/sample/640x360-30~400.";
  for (const id of [s.stream, s.fragmentsStream]) {
    if (id.length > 255) return `The stream id is ${id.length} characters long; relays accept at most 255.`;
  }
  if (s.relay === "") return "Enter the relay's WebSocket URL, for example ws://127.0.0.1:8080/.";
  let u: URL;
  try {
    u = new URL(s.relay);
  } catch {
    return `"${s.relay}" is not a URL: enter the relay's WebSocket URL, for example ws://127.0.0.1:8080/.`;
  }
  if (!["ws:", "wss:", "http:", "https:"].includes(u.protocol)) {
    return `"${s.relay}" is not a ws://, wss://, http:// or https:// URL.`;
  }
  return null;
}

/** The relay's HLS-over-HTTP playlist URL of a stream, token included. */
export function hlsPlaylistUrl(s: { relay: string; stream: string; token: string }): string {
  return defaultFallbackUrl({ url: s.relay, stream: s.stream, token: s.token });
}
