/**
 * The hlsrelay text-message codec: the same rules as the Go codec
 * (sdk-go/protocol), checked against its shared test vectors.
 * @module
 */

/** A parsed text message: an upper-case type and its first parameter values. */
export interface Message {
  /** Upper-case letters and digits, e.g. `"PULL"`. */
  type: string;
  /** Decoded parameters; the first value of each name. */
  params: Record<string, string>;
}

/** The `PULL` a viewer sends first. */
export interface Pull {
  stream: string;
  auth: string;
  /** `only_source=true`: do not fetch the stream from another node. */
  onlySource?: boolean;
  /** Send at most this many buffered fragments first; absent: all of them. */
  maxInitialFragments?: number;
  /** Ask for the protocol extensions (`ext=1`). */
  ext?: boolean;
  /** With `ext`: continue after fragment `after` of stream instance `epoch`. */
  resume?: { epoch: string; after: number };
  /** With `ext`: receive fMP4/CMAF streams in parts (`parts=1`). Set only when true. */
  parts?: boolean;
}

/** The relay's `OK`. `ext` is false for a relay that speaks only the base protocol. */
export interface Ok {
  ext: boolean;
  epoch: string;
  next?: number;
  /** The relay confirmed `parts=1` (only with `ext`). Set only when true. */
  parts?: boolean;
  /** With `parts`, for a publisher: the index of the part the relay lacks next in fragment `next`. */
  nextPart?: number;
}

/** The `F` message that precedes each binary fragment. */
export interface FragmentHeader {
  /** Seconds, finite and not negative. */
  duration: number;
  /** Sequence number within the stream instance (extension). */
  seq?: number;
  /** Publish wall-clock time in Unix milliseconds (extension); absent when unknown. */
  time?: number;
  /** A discontinuity precedes this fragment (extension). */
  disc: boolean;
  /**
   * Parts extension: the fragment was sent as this many parts and this `F` closes it; no
   * binary follows. Absent (or 0 on the wire): the fragment's bytes follow.
   */
  parts?: number;
}

/** The `P` message that precedes each part of a fragment (parts extension). */
export interface PartHeader {
  /** Sequence number of the fragment the part belongs to; a publisher may leave it out. */
  seq?: number;
  /** Position of the part in its fragment, from 0. */
  index: number;
  /** Seconds, finite and not negative. */
  duration: number;
  /** The part starts with an independent frame (a key frame): a decoder can start there. */
  independent: boolean;
  /** Publish wall-clock time of the part in Unix milliseconds; absent when unknown. */
  time?: number;
  /** A discontinuity precedes this part. */
  disc: boolean;
}

/** The relay's `E` message. */
export interface ErrorMessage {
  code: string;
  message: string;
}

/** The largest integer parameter value: 2^53-1. */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER;
/** The longest stream id, in Unicode code points. */
export const MAX_STREAM_ID_LENGTH = 255;

let encoder: TextEncoder | undefined;
let strictDecoder: TextDecoder | undefined;
// Made on first use: loading the module has no side effects.
const utf8 = (): TextEncoder => (encoder ??= new TextEncoder());
const strictUtf8 = (): TextDecoder => (strictDecoder ??= new TextDecoder("utf-8", { fatal: true }));

/**
 * Parses a text message `TYPE` or `TYPE:query`. Returns `null` if it is malformed:
 * an empty or non-alphanumeric type, a bad percent escape, a `;` separator, or a
 * name or value that does not decode to valid UTF-8.
 */
export function parseMessage(text: string): Message | null {
  const colon = text.indexOf(":");
  const type = colon < 0 ? text : text.slice(0, colon);
  if (!/^[A-Za-z0-9]+$/.test(type)) return null;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (colon >= 0) {
    for (const pair of text.slice(colon + 1).split("&")) {
      if (pair.includes(";")) return null;
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const name = unescapeComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = unescapeComponent(eq < 0 ? "" : pair.slice(eq + 1));
      if (name === null || value === null) return null;
      if (!(name in params)) params[name] = value;
    }
  }
  return { type: type.toUpperCase(), params };
}

function unescapeComponent(s: string): string | null {
  if (!s.includes("%") && !s.includes("+")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b) {
      bytes.push(0x20);
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // A raw non-ASCII character: copy its UTF-8 bytes (a surrogate pair as one).
      const cp = s.codePointAt(i) ?? c;
      const ch = String.fromCodePoint(cp);
      for (const b of utf8().encode(ch)) bytes.push(b);
      i += ch.length - 1;
    }
  }
  try {
    return strictUtf8().decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

/** Reports why `id` is not a valid stream id, or returns `null` if it is. */
export function streamIdProblem(id: string): string | null {
  if (id === "") return "empty stream id";
  let n = 0;
  for (const ch of id) {
    n++;
    const cp = ch.codePointAt(0) ?? 0;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return "stream id contains a control character";
    if (cp >= 0xd800 && cp <= 0xdfff) return "stream id is not valid Unicode";
  }
  if (n > MAX_STREAM_ID_LENGTH) return `stream id has ${n} characters, the limit is ${MAX_STREAM_ID_LENGTH}`;
  return null;
}

/** Reads an integer parameter: decimal digits only, at most 2^53-1; `undefined` if invalid. */
export function parseInteger(s: string): number | undefined {
  if (s === "" || s.length > 32 || !/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_INTEGER ? n : undefined;
}

/** Reads a duration in seconds: a plain decimal number, finite and not negative. */
export function parseSeconds(s: string): number | undefined {
  if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) return undefined;
  const d = Number(s);
  return Number.isFinite(d) ? d : undefined;
}

function parseBool(v: string | undefined): boolean | undefined {
  switch ((v ?? "").toLowerCase()) {
    case "":
    case "false":
    case "0":
    case "no":
      return false;
    case "true":
    case "1":
    case "yes":
      return true;
  }
  return undefined;
}

/** Reads `ext`: absent is false; versions above 1 are served as 1. */
function parseExt(m: Message): boolean | undefined {
  const v = m.params.ext ?? "";
  if (v === "") return false;
  const n = parseInteger(v);
  return n === undefined ? undefined : n >= 1;
}

/** Decodes an `OK`; `null` if malformed. Without `ext` the extension parameters are ignored. */
export function decodeOk(m: Message): Ok | null {
  if (m.type !== "OK") return null;
  const ext = parseExt(m);
  if (ext === undefined) return null;
  if (!ext) return { ext: false, epoch: "" };
  const ok: Ok = { ext: true, epoch: m.params.epoch ?? "" };
  const next = m.params.next ?? "";
  if (next !== "") {
    const n = parseInteger(next);
    if (n === undefined) return null;
    ok.next = n;
  }
  const parts = parseBool(m.params.parts);
  if (parts === undefined) return null;
  if (parts) {
    ok.parts = true;
    const np = m.params.next_part ?? "";
    if (np !== "") {
      const n = parseInteger(np);
      if (n === undefined) return null;
      ok.nextPart = n;
    }
  }
  return ok;
}

/** Decodes an `F`; `null` if malformed. */
export function decodeFragment(m: Message): FragmentHeader | null {
  if (m.type !== "F") return null;
  const duration = parseSeconds(m.params.duration ?? "");
  const disc = parseBool(m.params.disc);
  if (duration === undefined || disc === undefined) return null;
  const f: FragmentHeader = { duration, disc };
  for (const name of ["seq", "time"] as const) {
    const v = m.params[name] ?? "";
    if (v === "") continue;
    const n = parseInteger(v);
    if (n === undefined) return null;
    if (name === "seq") f.seq = n;
    else if (n > 0) f.time = n;
  }
  const parts = m.params.parts ?? "";
  if (parts !== "") {
    const n = parseInteger(parts);
    if (n === undefined) return null;
    if (n > 0) f.parts = n;
  }
  return f;
}

/** Decodes a `P` (parts extension); `null` if malformed. */
export function decodePart(m: Message): PartHeader | null {
  if (m.type !== "P") return null;
  const duration = parseSeconds(m.params.duration ?? "");
  const index = parseInteger(m.params.part ?? "");
  const independent = parseBool(m.params.independent);
  const disc = parseBool(m.params.disc);
  if (duration === undefined || index === undefined || independent === undefined || disc === undefined) return null;
  const p: PartHeader = { index, duration, independent, disc };
  for (const name of ["seq", "time"] as const) {
    const v = m.params[name] ?? "";
    if (v === "") continue;
    const n = parseInteger(v);
    if (n === undefined) return null;
    if (name === "seq") p.seq = n;
    else if (n > 0) p.time = n;
  }
  return p;
}

/** Decodes an `E`. */
export function decodeError(m: Message): ErrorMessage | null {
  if (m.type !== "E") return null;
  return { code: m.params.code ?? "", message: m.params.message ?? "" };
}

/** Decodes a `PULL`; `null` if malformed. (Relays read it; the SDK checks its own output with it.) */
export function decodePull(m: Message): Pull | null {
  if (m.type !== "PULL") return null;
  const p: Pull = { stream: m.params.stream ?? "", auth: m.params.auth ?? "" };
  if (streamIdProblem(p.stream) !== null) return null;
  const onlySource = parseBool(m.params.only_source);
  const ext = parseExt(m);
  if (onlySource === undefined || ext === undefined) return null;
  p.onlySource = onlySource;
  p.ext = ext;
  const mif = m.params.max_initial_fragments ?? "";
  if (mif !== "") {
    const n = parseInteger(mif);
    if (n === undefined) return null;
    p.maxInitialFragments = n;
  }
  const epoch = m.params.epoch ?? "";
  if (epoch !== "" && ext) {
    const after = parseInteger(m.params.after ?? "");
    if (after === undefined) return null;
    p.resume = { epoch, after };
  }
  if (ext) {
    const parts = parseBool(m.params.parts);
    if (parts === undefined) return null;
    if (parts) p.parts = true;
  }
  return p;
}

/** Decodes a `PUSH`; `null` if malformed. `parts` is read only with `ext`. */
export function decodePush(m: Message): { stream: string; auth: string; ext: boolean; epoch: string; parts: boolean } | null {
  if (m.type !== "PUSH") return null;
  const stream = m.params.stream ?? "";
  if (streamIdProblem(stream) !== null) return null;
  const ext = parseExt(m);
  if (ext === undefined) return null;
  const parts = ext ? parseBool(m.params.parts) : false;
  if (parts === undefined) return null;
  return { stream, auth: m.params.auth ?? "", ext, epoch: ext ? (m.params.epoch ?? "") : "", parts };
}

/**
 * Reports whether a parsed message is valid: for PUSH, PULL, OK, F, P and E the typed
 * decoder must accept it; other types are valid when they parse.
 */
export function isValid(m: Message): boolean {
  switch (m.type) {
    case "PUSH":
      return decodePush(m) !== null;
    case "PULL":
      return decodePull(m) !== null;
    case "OK":
      return decodeOk(m) !== null;
    case "F":
      return decodeFragment(m) !== null;
    case "P":
      return decodePart(m) !== null;
    case "E":
      return decodeError(m) !== null;
  }
  return true;
}

/** Percent-encodes every byte outside `[A-Za-z0-9-._~]`, as the Go codec writes. */
export function escapeComponent(s: string): string {
  let out = "";
  for (const b of utf8().encode(s)) {
    if (
      (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
      b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e
    ) {
      out += String.fromCharCode(b);
    } else {
      out += "%" + (b < 16 ? "0" : "") + b.toString(16).toUpperCase();
    }
  }
  return out;
}

function query(pairs: Array<[string, string]>): string {
  return pairs.map(([k, v]) => escapeComponent(k) + "=" + escapeComponent(v)).join("&");
}

/** The wire form of a `PULL`, parameters in the Go codec's order. */
export function encodePull(p: Pull): string {
  const pairs: Array<[string, string]> = [["stream", p.stream], ["auth", p.auth]];
  if (p.onlySource) pairs.push(["only_source", "true"]);
  if (p.maxInitialFragments !== undefined && p.maxInitialFragments >= 0) {
    pairs.push(["max_initial_fragments", String(Math.floor(p.maxInitialFragments))]);
  }
  if (p.ext) {
    pairs.push(["ext", "1"]);
    if (p.resume && p.resume.epoch !== "") {
      pairs.push(["epoch", p.resume.epoch], ["after", String(p.resume.after)]);
    }
    if (p.parts) pairs.push(["parts", "1"]);
  }
  return "PULL:" + query(pairs);
}

/** The wire form of a `PUSH` (tests and tools publish with it). */
export function encodePush(p: { stream: string; auth: string; ext?: boolean; epoch?: string; parts?: boolean }): string {
  const pairs: Array<[string, string]> = [["stream", p.stream], ["auth", p.auth]];
  if (p.ext) {
    pairs.push(["ext", "1"]);
    if (p.epoch) pairs.push(["epoch", p.epoch]);
    if (p.parts) pairs.push(["parts", "1"]);
  }
  return "PUSH:" + query(pairs);
}

/** The wire form of an `F` (tests and tools publish with it). */
export function encodeFragment(f: FragmentHeader, ext: boolean): string {
  const pairs: Array<[string, string]> = [["duration", String(f.duration)]];
  if (ext) {
    if (f.seq !== undefined) pairs.push(["seq", String(f.seq)]);
    if (f.time !== undefined && f.time > 0) pairs.push(["time", String(Math.floor(f.time))]);
    if (f.disc) pairs.push(["disc", "1"]);
    if (f.parts !== undefined && f.parts > 0) pairs.push(["parts", String(Math.floor(f.parts))]);
  }
  return "F:" + query(pairs);
}

/** The wire form of a `P`, parameters in the Go codec's order (tests and tools publish with it). */
export function encodePart(p: PartHeader): string {
  const pairs: Array<[string, string]> = [];
  if (p.seq !== undefined) pairs.push(["seq", String(p.seq)]);
  pairs.push(["part", String(p.index)], ["duration", String(p.duration)]);
  if (p.independent) pairs.push(["independent", "1"]);
  if (p.time !== undefined && p.time > 0) pairs.push(["time", String(Math.floor(p.time))]);
  if (p.disc) pairs.push(["disc", "1"]);
  return "P:" + query(pairs);
}

/** The `I` message, which precedes the binary init segment (parts extension). */
export const INIT_MESSAGE = "I";
