/**
 * Error codes: the relay's own (sent in its `E` message) and the client's.
 *
 * - `PROTOCOL_ERROR`, `AUTH_ERROR`, `MESSAGE_TOO_LARGE`, `STREAM_BUSY`, `UNAVAILABLE`:
 *   sent by the relay (`fromServer` is true), or `PROTOCOL_ERROR` when the client
 *   itself received something it cannot read.
 * - `TOO_MANY_STREAMS`, `TOO_MANY_VIEWERS`: sent by the relay when it is at its
 *   `MAX_STREAMS` or `MAX_VIEWERS_PER_STREAM` limit; the client retries (another
 *   node, or later). The relay's handshake refusals (`RATE_LIMITED`,
 *   `TOO_MANY_CONNECTIONS`, `NODE_FULL`, `ORIGIN_NOT_ALLOWED`) are HTTP statuses
 *   that browsers do not show to pages: they arrive as `CONNECTION_FAILED`.
 * - `UNAVAILABLE` is also what a draining relay sends before it closes with 1001:
 *   the client reconnects (through a load balancer, to another node).
 * - `CLOSED_BY_OPERATOR`: the relay's operator closed the stream or this
 *   connection (admin API); not fatal, the client reconnects.
 * - `CONNECTION_FAILED`: the WebSocket could not connect or dropped.
 * - `TIMEOUT`: no `OK` in time, or nothing received for the idle timeout.
 * - `MEDIA_ERROR`: the player (hls.js) reported a fatal error.
 *
 * Relays may add codes; they arrive unchanged.
 */
export type RelayErrorCode =
  | "PROTOCOL_ERROR"
  | "AUTH_ERROR"
  | "MESSAGE_TOO_LARGE"
  | "STREAM_BUSY"
  | "UNAVAILABLE"
  | "TOO_MANY_STREAMS"
  | "TOO_MANY_VIEWERS"
  | "CLOSED_BY_OPERATOR"
  | "CONNECTION_FAILED"
  | "TIMEOUT"
  | "MEDIA_ERROR"
  | (string & {});

/** An error from the relay or the connection to it. Branch on `code`, not on the message. */
export class RelayError extends Error {
  /** What went wrong; see {@link RelayErrorCode}. */
  readonly code: RelayErrorCode;
  /** True if the relay sent this error in an `E` message. */
  readonly fromServer: boolean;

  constructor(code: RelayErrorCode, message: string, fromServer = false) {
    super(message === "" ? `hlsrelay: ${code}` : `hlsrelay: ${code}: ${message}`);
    this.name = "RelayError";
    this.code = code;
    this.fromServer = fromServer;
  }
}

/** Codes after which reconnecting cannot help: the client stops. */
export const FATAL_CODES: readonly string[] = ["AUTH_ERROR", "PROTOCOL_ERROR", "MESSAGE_TOO_LARGE"];
