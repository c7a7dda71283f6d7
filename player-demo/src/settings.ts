import { defaultFallbackUrl } from "hlsrelay";

/** How the page gets the stream: the relay's WebSocket (SDK loaders) or its HLS over HTTP. */
export type Transport = "ws" | "hls";

/** What the page plays. */
export interface DemoSettings {
  /** The relay's WebSocket URL, `ws(s)://host[:port]/`. */
  relay: string;
  stream: string;
  /** A PULL token for `stream`; empty for relays without `PULL_SECRET`. */
  token: string;
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

/** Reads the settings from the page's query: `relay`, `stream`, `token`, `transport` (`ws` or `hls`). */
export function readSettings(loc: PageLocation): DemoSettings {
  const q = new URLSearchParams(loc.search);
  return {
    relay: (q.get("relay") ?? "").trim() || sameOriginRelay(loc),
    stream: (q.get("stream") ?? "").trim(),
    token: (q.get("token") ?? "").trim(),
    transport: q.get("transport") === "hls" ? "hls" : "ws",
    debug: q.get("debug") === "1",
  };
}

/** The query that gives `s` back through {@link readSettings}; the default relay and transport are left out. */
export function settingsSearch(s: DemoSettings, loc: PageLocation): string {
  const q = new URLSearchParams();
  if (s.relay !== "" && s.relay !== sameOriginRelay(loc)) q.set("relay", s.relay);
  q.set("stream", s.stream);
  if (s.token !== "") q.set("token", s.token);
  if (s.transport !== "ws") q.set("transport", s.transport);
  if (s.debug) q.set("debug", "1");
  // "/" and "~" are common in stream ids and need no escaping in a query.
  return "?" + q.toString().replace(/%2F/gi, "/").replace(/%7E/gi, "~");
}

/** What is wrong with `s`, in words for the person, or null. */
export function checkSettings(s: DemoSettings): string | null {
  if (s.stream === "") return "Enter the id of a stream, for example demo/sample/640x360-30~400.";
  if (s.stream.length > 255) return `The stream id is ${s.stream.length} characters long; relays accept at most 255.`;
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

/** The relay's HLS-over-HTTP playlist URL of the stream, token included. */
export function hlsPlaylistUrl(s: DemoSettings): string {
  return defaultFallbackUrl({ url: s.relay, stream: s.stream, token: s.token });
}
