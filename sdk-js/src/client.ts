import { Emitter } from "./emitter";
import { FATAL_CODES, RelayError } from "./errors";
import { concatBytes } from "./bytes";
import { PartAssembly, type InitSegment, type Part } from "./parts";
import { decodeError, decodeFragment, decodeOk, decodePart, encodePull, parseMessage, type FragmentHeader, type PartHeader } from "./protocol";

export type { InitSegment, Part } from "./parts";

/** A fragment as the client delivers it. */
export interface Fragment {
  /**
   * Sequence number. With the protocol extensions it is the relay's number within
   * `epoch`; against a base-protocol relay the client numbers fragments itself from 0.
   */
  seq: number;
  /** The stream instance (extension); `""` against a base-protocol relay. */
  epoch: string;
  /** Seconds. */
  duration: number;
  /** Publish wall-clock time in Unix milliseconds, if the relay sent one. */
  time?: number;
  /** A discontinuity precedes this fragment (marked by the relay, or a gap or restart seen by the client). */
  disc: boolean;
  /**
   * The fragment's bytes, exactly as the publisher sent them (MPEG-TS, or fMP4 without its
   * init segment). For a fragment received in parts: the parts received, one after the other.
   * Do not modify.
   */
  data: ArrayBuffer;
  /** `Date.now()` when the fragment arrived (for one received in parts: when its closing `F` did). */
  receivedAt: number;
  /**
   * Parts extension: the parts the fragment was received in, in order (each was emitted as
   * a `part` event already). Absent for a fragment received whole.
   */
  parts?: Part[];
  /**
   * Parts extension: all of its parts, 0 to N-1, were received. False when the client joined
   * (or resumed into) the fragment after its first part: then `duration` and `time` are still
   * the whole fragment's, and `parts` tell which of it `data` holds.
   */
  complete?: boolean;
}

/** Why a discontinuity was reported. */
export type DiscontinuityReason = "relay" | "gap" | "restart" | "reconnect";

/** Events of {@link RelayClient}, with their listener arguments. */
export type RelayClientEvents = {
  /**
   * The relay accepted the PULL. `ext`: it speaks the extensions; `resumed`: it continues after
   * the last fragment received; `parts`: it confirmed the parts extension (`parts=1`).
   */
  open: [info: { ext: boolean; epoch: string; resumed: boolean; reconnect: boolean; parts: boolean }];
  /**
   * A fragment arrived, in order, without duplicates. A fragment received in parts is
   * emitted when its closing `F` arrives, after its `part` events.
   */
  fragment: [fragment: Fragment];
  /** Parts extension: the stream's fMP4 init segment arrived (first, and again whenever it changes). */
  init: [init: InitSegment];
  /** Parts extension: a part arrived; parts are emitted in order, the moment each arrives, without duplicates. */
  part: [part: Part];
  /** A discontinuity precedes fragment `seq` (also flagged as `disc` on the fragment). */
  discontinuity: [info: { seq: number; epoch: string; reason: DiscontinuityReason }];
  /** An error: from the relay (`fromServer`, with the relay's code), a timeout or a protocol violation. */
  error: [error: RelayError];
  /** The socket closed. `willReconnect` tells whether the client tries again. */
  close: [info: { code: number; reason: string; willReconnect: boolean }];
  /** The relay said the stream ended (`CLOSE`). The client does not reconnect. */
  ended: [];
};

/** Reconnection with exponential back-off. */
export interface ReconnectOptions {
  /** First delay, in milliseconds. Defaults to 500. */
  minDelayMs?: number;
  /** Longest delay. Defaults to 10000. */
  maxDelayMs?: number;
  /** Each failed attempt multiplies the delay by this. Defaults to 2. */
  factor?: number;
  /** Random spread, as a fraction of the delay (0.2 = ±20%). Defaults to 0.2. */
  jitter?: number;
  /** Attempts after which the client gives up. Defaults to Infinity. */
  maxAttempts?: number;
}

/** A WebSocket constructor, such as the browser's `WebSocket`. */
export type WebSocketConstructor = new (url: string) => WebSocket;

/** Options of {@link RelayClient}. */
export interface RelayClientOptions {
  /** The relay's WebSocket URL, `ws://` or `wss://` (`http(s)://` is accepted and converted). */
  url: string;
  /** The stream id. */
  stream: string;
  /** The PULL token, or a function returning it (called before each connection). Defaults to `""`. */
  token?: string | (() => string | Promise<string>);
  /** At most this many buffered fragments first (`max_initial_fragments`). Defaults to all the relay has. */
  maxInitialFragments?: number;
  /** Ask the relay not to fetch the stream from another node (`only_source=true`). Defaults to false. */
  onlySource?: boolean;
  /** Ask for the protocol extensions (sequence numbers, resume, publish time). Defaults to true. */
  extensions?: boolean;
  /**
   * Ask for fMP4/CMAF streams in parts (`PULL ext=1&parts=1`), for sub-second latency: the
   * client then emits `init` and `part` events as well as `fragment`. Ignored (whole fragments
   * only) without `extensions`, or when the relay's `OK` lacks `parts=1`. MPEG-TS streams
   * always arrive whole. Defaults to false.
   */
  parts?: boolean;
  /** Reconnect options, or `false` not to reconnect. Defaults to back-off from 500 ms to 10 s. */
  reconnect?: ReconnectOptions | false;
  /** Send a heartbeat after this long without sending anything, in ms. Defaults to 30000. */
  heartbeatIntervalMs?: number;
  /** Drop the connection (and reconnect) after this long without receiving anything, in ms. Defaults to 60000. */
  idleTimeoutMs?: number;
  /** Give up a connection attempt without `OK` after this long, in ms. Defaults to 30000. */
  openTimeoutMs?: number;
  /** WebSocket implementation. Defaults to `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
}

/** Counters of a {@link RelayClient}. */
export interface RelayClientStats {
  /** Connections the relay accepted. */
  opens: number;
  /** Fragments delivered. */
  fragments: number;
  /** Bytes of the fragments delivered (a fragment received in parts counts at its closing `F`). */
  bytes: number;
  /** Parts delivered (parts extension). */
  parts: number;
  /** Fragments (and parts) dropped because they were already delivered. */
  duplicates: number;
  /** Discontinuities reported. */
  discontinuities: number;
}

/** Where the client is. */
export type RelayClientState = "idle" | "connecting" | "open" | "waiting" | "closed";

const defaults = {
  minDelayMs: 500,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.2,
  maxAttempts: Infinity,
};

/**
 * Pulls one stream from a relay over a WebSocket: sends `PULL`, delivers fragments in
 * order, keeps the connection alive with heartbeats, and reconnects with back-off,
 * resuming after the last fragment received (no gap and no duplicate while the relay
 * still holds the fragments). Works against relays that speak only the base protocol.
 *
 * Events are delivered synchronously from the socket's callbacks.
 */
export class RelayClient extends Emitter<RelayClientEvents> {
  /** Counters since construction. */
  readonly stats: RelayClientStats = { opens: 0, fragments: 0, bytes: 0, parts: 0, duplicates: 0, discontinuities: 0 };

  private readonly opts: RelayClientOptions;
  private readonly reconnectOpts: Required<ReconnectOptions> | null;
  private stateValue: RelayClientState = "idle";
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private attempt = 0;
  private lastSent = 0;
  private lastReceived = 0;
  private accepted = false;
  private ext = false;
  private parts = false;
  private pending: Pending | null = null;
  private fatal = false;
  private ended = false;
  // Position in the stream, kept across connections for resume.
  private epoch = "";
  private lastSeq: number | undefined;
  private localSeq = -1;
  private delivered = false;
  private resumeDisc: DiscontinuityReason | null = null;
  // The fragment being received in parts; kept across a resumed connection.
  private assembly: PartAssembly | null = null;

  constructor(options: RelayClientOptions) {
    super();
    if (!options || typeof options.url !== "string" || typeof options.stream !== "string") {
      throw new TypeError("hlsrelay: RelayClient needs options.url and options.stream");
    }
    this.opts = { ...options };
    this.reconnectOpts = options.reconnect === false ? null : { ...defaults, ...options.reconnect };
  }

  /** The client's state. */
  get state(): RelayClientState {
    return this.stateValue;
  }

  /** The stream instance and last sequence number received, for resume. */
  get position(): { epoch: string; seq: number | undefined } {
    return { epoch: this.epoch, seq: this.lastSeq };
  }

  /** Connects. Calling it again does nothing. */
  start(): void {
    if (this.stateValue !== "idle") return;
    void this.connect();
  }

  /**
   * Closes the connection and stops reconnecting. No event is emitted afterwards
   * and listeners are removed. Safe to call more than once.
   */
  destroy(): void {
    this.stateValue = "closed";
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(1000, "client closed");
      } catch {
        // already closed
      }
    }
    this.removeAllListeners();
  }

  private async connect(): Promise<void> {
    this.stateValue = "connecting";
    this.accepted = false;
    this.pending = null;
    let token = "";
    try {
      token = typeof this.opts.token === "function" ? await this.opts.token() : (this.opts.token ?? "");
    } catch (err) {
      if (this.isClosed()) return;
      this.emit("error", new RelayError("AUTH_ERROR", `token provider failed: ${String(err)}`));
      this.afterClose(0, "token provider failed");
      return;
    }
    if (this.isClosed()) return;
    const WS = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) {
      this.stateValue = "closed";
      this.emit("error", new RelayError("CONNECTION_FAILED", "no WebSocket implementation (pass options.WebSocket)"));
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WS(toWebSocketURL(this.opts.url));
    } catch (err) {
      // A malformed URL: trying again cannot help.
      this.fatal = true;
      this.emit("error", new RelayError("CONNECTION_FAILED", String(err)));
      this.afterClose(0, "connect failed");
      return;
    }
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    const openTimeout = this.opts.openTimeoutMs ?? 30_000;
    this.timer = setTimeout(() => this.fail(new RelayError("TIMEOUT", `no OK within ${openTimeout} ms`)), openTimeout);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      const ext = this.opts.extensions !== false;
      const resume = ext && this.epoch !== "" && this.lastSeq !== undefined;
      let maxInitial = this.opts.maxInitialFragments;
      if (this.delivered && !resume) {
        // No way to continue where we were: take only new fragments, so none is
        // delivered twice; the gap is reported as a discontinuity.
        maxInitial = 0;
      }
      this.send(
        encodePull({
          stream: this.opts.stream,
          auth: token,
          onlySource: this.opts.onlySource,
          maxInitialFragments: maxInitial,
          ext,
          resume: resume ? { epoch: this.epoch, after: this.lastSeq ?? 0 } : undefined,
          parts: ext && this.opts.parts === true,
        }),
      );
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      this.lastReceived = Date.now();
      if (typeof ev.data === "string") this.onText(ev.data);
      else if (ev.data instanceof ArrayBuffer) this.onBinary(ev.data);
      else this.fail(new RelayError("PROTOCOL_ERROR", "binary message is not an ArrayBuffer"));
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      detach(ws);
      this.afterClose(ev.code, ev.reason);
    };
    ws.onerror = () => {
      // A close event follows.
    };
  }

  private onText(text: string): void {
    const m = parseMessage(text);
    if (m === null) {
      this.fail(new RelayError("PROTOCOL_ERROR", `malformed message ${JSON.stringify(text.slice(0, 64))}`));
      return;
    }
    switch (m.type) {
      case "OK": {
        const ok = decodeOk(m);
        if (ok === null || this.accepted) {
          this.fail(new RelayError("PROTOCOL_ERROR", `unexpected ${JSON.stringify(text.slice(0, 64))}`));
          return;
        }
        const ext = ok.ext && this.opts.extensions !== false;
        this.onOk(ext, ok.epoch, ext && ok.parts === true && this.opts.parts === true);
        return;
      }
      case "F": {
        const f = decodeFragment(m);
        if (f === null || !this.accepted || (f.parts !== undefined && (!this.parts || f.seq === undefined))) {
          this.fail(new RelayError("PROTOCOL_ERROR", `unexpected ${JSON.stringify(text.slice(0, 64))}`));
          return;
        }
        if (f.parts !== undefined) {
          // Closes a fragment sent in parts: no binary follows.
          this.pending = null;
          this.onClosingFragment(f, f.parts);
        } else {
          this.pending = { kind: "F", header: f };
        }
        return;
      }
      case "P":
      case "I": {
        const p = m.type === "P" ? decodePart(m) : null;
        if (!this.accepted || !this.parts || (m.type === "P" && (p === null || p.seq === undefined))) {
          this.fail(new RelayError("PROTOCOL_ERROR", `unexpected ${JSON.stringify(text.slice(0, 64))}`));
          return;
        }
        this.pending = p === null ? { kind: "I" } : { kind: "P", header: p, seq: p.seq ?? 0 };
        return;
      }
      case "E": {
        const e = decodeError(m);
        const err = new RelayError(e?.code || "PROTOCOL_ERROR", e?.message ?? "", true);
        if (FATAL_CODES.includes(err.code)) this.fatal = true;
        this.emit("error", err);
        this.closeSocket(1000, "relay error");
        return;
      }
      case "CLOSE":
        this.ended = true;
        this.emit("ended");
        this.closeSocket(1000, "stream ended");
        return;
      case "H":
      default:
        // Heartbeat, or a message type of a later protocol version.
        return;
    }
  }

  private onOk(ext: boolean, epoch: string, parts: boolean): void {
    clearTimeout(this.timer);
    this.accepted = true;
    this.attempt = 0;
    this.stateValue = "open";
    this.stats.opens++;
    const reconnect = this.stats.opens > 1;
    let resumed = false;
    if (ext) {
      resumed = this.epoch !== "" && epoch === this.epoch && this.lastSeq !== undefined;
      if (epoch !== this.epoch) {
        if (this.delivered) this.resumeDisc = "restart";
        this.epoch = epoch;
        this.lastSeq = undefined;
      }
    } else {
      this.epoch = "";
      this.lastSeq = undefined;
      if (this.delivered) this.resumeDisc = "reconnect";
    }
    this.ext = ext;
    this.parts = parts;
    // Resume continues with the first part of the fragment after the last one closed: the
    // parts of it already received are kept, and their copies dropped as duplicates.
    if (!parts || this.assembly?.epoch !== this.epoch) this.assembly = null;
    const hb = this.opts.heartbeatIntervalMs ?? 30_000;
    const idle = this.opts.idleTimeoutMs ?? 60_000;
    this.lastReceived = Date.now();
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.tick(hb, idle), Math.max(20, Math.min(hb, idle) / 4));
    this.emit("open", { ext, epoch: this.epoch, resumed, reconnect, parts });
  }

  private onBinary(data: ArrayBuffer): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) {
      this.fail(new RelayError("PROTOCOL_ERROR", `binary message without a preceding ${this.parts ? "F, P or I" : "F"}`));
      return;
    }
    if (p.kind === "I") this.emit("init", { epoch: this.epoch, data, receivedAt: Date.now() });
    else if (p.kind === "P") this.onPart(p.header, p.seq, data);
    else this.onFragment(p.header, data);
  }

  private onFragment(h: FragmentHeader, data: ArrayBuffer): void {
    let seq: number;
    let disc = h.disc;
    let reason: DiscontinuityReason | null = h.disc ? "relay" : null;
    if (this.ext && h.seq !== undefined) {
      seq = h.seq;
      if (this.lastSeq !== undefined) {
        if (seq <= this.lastSeq) {
          this.stats.duplicates++;
          return;
        }
        if (seq > this.lastSeq + 1 && !disc) {
          disc = true;
          reason = "gap";
        }
      }
      this.lastSeq = seq;
      this.localSeq = Math.max(this.localSeq, seq);
    } else {
      seq = ++this.localSeq;
    }
    if (this.resumeDisc !== null) {
      if (!disc) reason = this.resumeDisc;
      disc = true;
      this.resumeDisc = null;
    }
    // A fragment received whole ends any fragment left unfinished in parts.
    this.assembly = null;
    const fragment: Fragment = {
      seq,
      epoch: this.epoch,
      duration: h.duration,
      disc,
      data,
      receivedAt: Date.now(),
    };
    if (h.time !== undefined) fragment.time = h.time;
    this.delivered = true;
    this.stats.fragments++;
    this.stats.bytes += data.byteLength;
    if (disc) {
      this.stats.discontinuities++;
      this.emit("discontinuity", { seq, epoch: this.epoch, reason: reason ?? "relay" });
    }
    this.emit("fragment", fragment);
  }

  private onPart(h: PartHeader, seq: number, data: ArrayBuffer): void {
    let a = this.assembly;
    if (a !== null && seq > a.seq) a = this.assembly = null; // never closed: the relay skipped the rest of it
    if ((a !== null && seq < a.seq) || (this.lastSeq !== undefined && seq <= this.lastSeq) || (a !== null && !a.follows(h.index))) {
      this.stats.duplicates++;
      return;
    }
    let disc = h.disc;
    let reason: DiscontinuityReason | null = h.disc ? "relay" : null;
    if (a === null) {
      // The first part of a new fragment.
      if (this.lastSeq !== undefined && seq > this.lastSeq + 1 && !disc) {
        disc = true;
        reason = "gap";
      }
      if (this.resumeDisc !== null) {
        if (!disc) reason = this.resumeDisc;
        disc = true;
        this.resumeDisc = null;
      }
      a = this.assembly = new PartAssembly(seq, this.epoch, disc);
    }
    const part: Part = {
      seq,
      index: h.index,
      epoch: this.epoch,
      duration: h.duration,
      independent: h.independent,
      disc,
      data,
      receivedAt: Date.now(),
    };
    if (h.time !== undefined) part.time = h.time;
    a.parts.push(part);
    this.delivered = true;
    this.stats.parts++;
    if (disc) {
      this.stats.discontinuities++;
      this.emit("discontinuity", { seq, epoch: this.epoch, reason: reason ?? "relay" });
    }
    this.emit("part", part);
  }

  /** A closing `F` (`parts=count`): delivers the fragment assembled from the parts received. */
  private onClosingFragment(h: FragmentHeader, count: number): void {
    const a = this.assembly;
    // A fragment none of whose parts arrived (or one already closed) has nothing to deliver.
    if (a === null || a.seq !== h.seq) return;
    this.assembly = null;
    const data = concatBytes(a.parts.map((p) => p.data));
    const fragment: Fragment = {
      seq: a.seq,
      epoch: a.epoch,
      duration: h.duration,
      disc: a.disc,
      data,
      receivedAt: Date.now(),
      parts: a.parts,
      complete: a.isComplete(count),
    };
    if (h.time !== undefined) fragment.time = h.time;
    this.lastSeq = a.seq;
    this.localSeq = Math.max(this.localSeq, a.seq);
    this.stats.fragments++;
    this.stats.bytes += data.byteLength;
    this.emit("fragment", fragment);
  }

  private tick(heartbeatMs: number, idleMs: number): void {
    const now = Date.now();
    if (now - this.lastReceived >= idleMs) {
      this.fail(new RelayError("TIMEOUT", `nothing received for ${idleMs} ms`));
      return;
    }
    if (now - this.lastSent >= heartbeatMs) this.send("H");
  }

  private send(text: string): void {
    try {
      this.ws?.send(text);
      this.lastSent = Date.now();
    } catch {
      // The close event reports the failure.
    }
  }

  /** Reports a client-side error and drops the connection (the client reconnects). */
  private fail(err: RelayError): void {
    this.emit("error", err);
    this.closeSocket(4000, err.code);
  }

  private closeSocket(code: number, reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    detach(ws);
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
    this.afterClose(code, reason);
  }

  private afterClose(code: number, reason: string): void {
    this.clearTimers();
    this.pending = null;
    if (this.isClosed()) return;
    const r = this.reconnectOpts;
    const willReconnect = !this.ended && !this.fatal && r !== null && this.attempt < r.maxAttempts;
    this.stateValue = willReconnect ? "waiting" : "closed";
    this.emit("close", { code, reason, willReconnect });
    if (!willReconnect || r === null || this.isClosed()) return;
    const base = Math.min(r.maxDelayMs, r.minDelayMs * Math.pow(r.factor, this.attempt));
    const delay = Math.max(0, base * (1 + r.jitter * (2 * Math.random() - 1)));
    this.attempt++;
    this.timer = setTimeout(() => {
      if (this.stateValue === "waiting") void this.connect();
    }, delay);
  }

  private isClosed(): boolean {
    return this.stateValue === "closed";
  }

  private clearTimers(): void {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.timer = undefined;
    this.ticker = undefined;
  }
}

/** What the next binary message is, after the text message that announced it. */
type Pending =
  | { kind: "F"; header: FragmentHeader }
  | { kind: "P"; header: PartHeader; seq: number }
  | { kind: "I" };

function detach(ws: WebSocket): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = null;
}

/** Converts `http(s)://` to `ws(s)://`; other URLs are returned unchanged. */
export function toWebSocketURL(url: string): string {
  return url.replace(/^http(s?):\/\//i, "ws$1://");
}
