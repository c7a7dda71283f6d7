/**
 * A real relay for integration tests: bin/hlsrelay started on a free loopback port,
 * tokens, a publisher speaking the protocol with exact bytes, and a TCP proxy that
 * can cut connections.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decodeOk, encodeFragment, encodePush, parseMessage } from "../../src/protocol";

/** The repository root (tests run from sdk-js/.test-out). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms until it is true or `ms` pass. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export interface Relay {
  port: number;
  url: string;
  pullSecret: string;
  pushSecret: string;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts bin/hlsrelay (built by `make build`; HLSRELAY_BIN overrides) and waits until it accepts connections. */
export async function startRelay(env: Record<string, string> = {}): Promise<Relay> {
  const bin = process.env.HLSRELAY_BIN ?? path.join(repoRoot, "bin", "hlsrelay");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run make build first`);
  const port = await freePort();
  const pullSecret = "pull-secret-for-sdk-js-tests-0123456789";
  const pushSecret = "push-secret-for-sdk-js-tests-0123456789";
  let logs = "";
  const child: ChildProcess = spawn(bin, ["--env-file="], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      HTTP_PORT: String(port),
      HTTP_BIND_ADDRESS: "127.0.0.1",
      PULL_SECRET: pullSecret,
      PUSH_SECRET: pushSecret,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (logs += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`hlsrelay exited at start-up:\n${logs}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`hlsrelay did not listen on ${port} within 30 s:\n${logs}`);
    }
    await sleep(25);
  }
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    pullSecret,
    pushSecret,
    logs: () => logs,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/** An HS256 JWT with `sub` = `ACTION:stream`, as the relay expects. */
export function signToken(secret: string, action: "PULL" | "PUSH", stream: string, ttlSeconds = 3600): string {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ sub: `${action}:${stream}`, exp: Math.floor(Date.now() / 1000) + ttlSeconds }));
  const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${sig}`;
}

/** A publisher that speaks the protocol itself, for exact bytes. */
export class TestPublisher {
  private constructor(
    private readonly ws: WebSocket,
    readonly epoch: string,
  ) {}

  static async connect(relay: Relay, stream: string): Promise<TestPublisher> {
    const ws = new WebSocket(relay.url);
    ws.binaryType = "arraybuffer";
    const epoch = await new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send(encodePush({ stream, auth: signToken(relay.pushSecret, "PUSH", stream), ext: true }));
      ws.onmessage = (ev: MessageEvent) => {
        const m = typeof ev.data === "string" ? parseMessage(ev.data) : null;
        const ok = m ? decodeOk(m) : null;
        if (ok) resolve(ok.epoch);
        else reject(new Error(`publisher: unexpected ${String(ev.data)}`));
      };
      ws.onerror = () => reject(new Error("publisher: connection failed"));
    });
    ws.onmessage = null;
    return new TestPublisher(ws, epoch);
  }

  send(data: Uint8Array<ArrayBuffer>, duration: number, time?: number): void {
    this.ws.send(encodeFragment({ duration, disc: false, time }, true));
    this.ws.send(data);
  }

  /** Sends CLOSE (the stream ends) and closes. */
  end(): void {
    this.ws.send("CLOSE");
    this.ws.close();
  }
}

/** Bytes that look like MPEG-TS packets (sync byte every 188) with a recognisable payload. */
export function fakeSegment(n: number, packets = 20): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(188 * packets);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + n * 7) & 0xff;
  for (let p = 0; p < packets; p++) {
    b[p * 188] = 0x47;
    b[p * 188 + 1] = n & 0xff;
    b[p * 188 + 2] = (n >> 8) & 0xff;
  }
  return b;
}

/** A TCP proxy to `port`; `cut()` drops every connection it carries now. */
export class TcpProxy {
  private constructor(
    private readonly server: net.Server,
    private readonly sockets: Set<net.Socket>,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<TcpProxy> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect(target, "127.0.0.1");
      sockets.add(client);
      sockets.add(upstream);
      const done = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", done).on("close", done);
      upstream.on("error", done).on("close", done);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const addr = server.address();
    return new TcpProxy(server, sockets, typeof addr === "object" && addr ? addr.port : 0);
  }

  /** Connections open now (each proxied connection counts twice: both sides). */
  get open(): number {
    return this.sockets.size;
  }

  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
