/**
 * The real parts of the browser tests: bin/hlsrelay, bin/publish and bin/cluster (from
 * `make build`) on free loopback ports, a static file server for the page, a TCP proxy
 * that can cut connections, and tokens.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from player-demo/.test-out). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where screenshots and figures of the browser tests go (gitignored). */
export const artifactsDir = path.join(repoRoot, "test-artifacts");

export const PULL_SECRET = "pull-secret-for-browser-tests-0123456789";
export const PUSH_SECRET = "push-secret-for-browser-tests-0123456789";

/** The path of a binary of `make build` (bin/NAME). */
export function bin(name: string): string {
  const p = path.join(repoRoot, "bin", name);
  if (!existsSync(p)) throw new Error(`${p} is missing: run make build first`);
  return p;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

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

/** A child process whose output is kept (the newest 4 MB). */
export class Proc {
  private out = "";
  private exitCode: number | null = null;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer): void => {
      this.out += d.toString();
      if (this.out.length > 4 << 20) this.out = this.out.slice(-(2 << 20));
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : -1);
        resolve();
      }),
    );
  }

  static start(name: string, file: string, args: string[], env: Record<string, string> = {}): Proc {
    const child = spawn(file, args, {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new Proc(name, child);
  }

  get output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  get code(): number | null {
    return this.exitCode;
  }

  /** JSON log lines (relays with LOG_FORMAT=json) for which `match` holds. */
  jsonLines(match: (l: Record<string, unknown>) => boolean): Array<Record<string, unknown>> {
    return jsonLines(this.out, match);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM (or `sig`), then SIGKILL after `graceMs`. */
  async stop(sig: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<void> {
    this.signal(sig);
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  wait(): Promise<void> {
    return this.exited;
  }
}

/** Parses JSON lines of a log and keeps those for which `match` holds. */
export function jsonLines(text: string, match: (l: Record<string, unknown>) => boolean): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const l = JSON.parse(line) as Record<string, unknown>;
      if (match(l)) out.push(l);
    } catch {
      // not a log line
    }
  }
  return out;
}

/** Polls `cond` every 50 ms until it holds or `ms` pass. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export interface Relay {
  port: number;
  /** ws://127.0.0.1:PORT/ */
  url: string;
  /** http://127.0.0.1:PORT */
  http: string;
  proc: Proc;
  stop(): Promise<void>;
}

/** Starts bin/hlsrelay with the demo page and test secrets on a free port, and waits until it listens. */
export async function startRelay(env: Record<string, string> = {}): Promise<Relay> {
  const port = await freePort();
  const proc = Proc.start("hlsrelay", bin("hlsrelay"), ["--env-file="], {
    HTTP_PORT: String(port),
    HTTP_BIND_ADDRESS: "127.0.0.1",
    PULL_SECRET,
    PUSH_SECRET,
    DEMO_PAGE_ENABLED: "YES",
    LOG_FORMAT: "json",
    ...env,
  });
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (!proc.running) throw new Error(`hlsrelay exited at start-up:\n${proc.output}`);
    if (Date.now() > deadline) {
      await proc.stop("SIGKILL");
      throw new Error(`hlsrelay did not listen on ${port} within 30 s:\n${proc.output}`);
    }
    await sleep(25);
  }
  return { port, url: `ws://127.0.0.1:${port}/`, http: `http://127.0.0.1:${port}`, proc, stop: () => proc.stop() };
}

/**
 * Publishes the committed sample (MPEG-TS, 1 s fragments) in a loop with bin/publish (the
 * Go SDK), and waits until the relay has it. `extraArgs` go to bin/publish.
 */
export async function startPublisher(relay: Relay, stream: string, viaUrl = relay.url, extraArgs: string[] = []): Promise<Proc> {
  const before = publisherConnections(relay, stream);
  const proc = Proc.start("publish", bin("publish"), ["-url", viaUrl, "-stream", stream, "-secret", PUSH_SECRET, "-sample", "-retry-delay", "500ms", ...extraArgs]);
  await until(() => publisherConnections(relay, stream) > before || !proc.running, 15_000, `the publisher of ${stream}`);
  if (!proc.running) throw new Error(`bin/publish exited:\n${proc.output}`);
  return proc;
}

/**
 * Publishes the committed fMP4 sample in parts (`bin/publish -sample -cmaf`: 200 ms parts,
 * 1 s fragments, no `time`: the relay stamps each part when it receives it), and waits until
 * the relay has the stream.
 */
export function startCmafPublisher(relay: Relay, stream: string): Promise<Proc> {
  return startPublisher(relay, stream, relay.url, ["-cmaf"]);
}

/** How many times a publisher of `stream` connected to `relay`. */
export function publisherConnections(relay: Relay, stream: string): number {
  return relay.proc.jsonLines((l) => l.message === "publisher connected" && l.stream === stream).length;
}

/** An HS256 JWT with `sub` = `ACTION:stream`, as the relay expects. */
export function signToken(secret: string, action: "PULL" | "PUSH", stream: string, ttlSeconds = 3600): string {
  const b64 = (s: string): string => Buffer.from(s).toString("base64url");
  const header = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64(JSON.stringify({ sub: `${action}:${stream}`, exp: Math.floor(Date.now() / 1000) + ttlSeconds }));
  const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${sig}`;
}

/** A TCP proxy to `port` on 127.0.0.1; `cut()` drops every connection it carries now. */
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

  /** Connections carried now. */
  get open(): number {
    return this.sockets.size / 2;
  }

  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
};

/** Serves `dir` (player-demo/dist) on a free port: the page on "any static server". */
export async function startStaticServer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (p.endsWith("/")) p += "index.html";
    const file = path.join(dir, path.normalize(p));
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": contentTypes[path.extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
