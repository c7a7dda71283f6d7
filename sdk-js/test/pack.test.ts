import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import vm from "node:vm";
import { repoRoot } from "./helpers/relay";

// `npm pack` of sdk-js (built by jsbuild and tsc first), installed offline into an empty
// project with hls.js (packed from the workspace's node_modules), then used the three
// ways a web developer uses it: ESM import, CommonJS require, script tag.

const sdkDir = path.join(repoRoot, "sdk-js");
let tmp = "";
let project = "";

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
}

function node(file: string, source: string): unknown {
  writeFileSync(path.join(project, file), source);
  return JSON.parse(run(process.execPath, [file], project)) as unknown;
}

describe("npm pack", { timeout: 120_000 }, () => {
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "hlsrelay-pack-"));
    project = path.join(tmp, "project");
    const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tmp], sdkDir)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const sdk = packed[0];
    assert.ok(sdk, "npm pack made a tarball");
    const files = sdk.files.map((f) => f.path).sort();
    for (const f of ["package.json", "README.md", "dist/index.mjs", "dist/index.cjs", "dist/compat.mjs", "dist/compat.cjs", "dist/hlsrelay.min.js", "dist/hlsrelay-compat.min.js", "dist/types/index.d.ts", "dist/types/compat.d.ts", "dist/index.mjs.map"]) {
      assert.ok(files.includes(f), `the package holds ${f}`);
    }
    assert.deepEqual(files.filter((f) => f.startsWith("src/") || f.startsWith("test/") || f.startsWith(".test-out/")), [], "no sources or tests");
    const hlsTarball = run("npm", ["pack", path.join(repoRoot, "node_modules", "hls.js"), "--pack-destination", tmp, "--ignore-scripts", "--silent"], tmp).trim().split("\n").pop() ?? "";
    run("mkdir", ["-p", project], tmp);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "empty-project", version: "1.0.0", private: true }));
    run("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", path.join(tmp, sdk.filename), path.join(tmp, hlsTarball)], project);
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("installs with hls.js as its peer, not bundled", () => {
    const pkg = JSON.parse(readFileSync(path.join(project, "node_modules", "hlsrelay", "package.json"), "utf8")) as { peerDependencies?: Record<string, string>; dependencies?: Record<string, string> };
    assert.deepEqual(Object.keys(pkg.peerDependencies ?? {}), ["hls.js"]);
    assert.equal(pkg.dependencies, undefined);
    const esm = readFileSync(path.join(project, "node_modules", "hlsrelay", "dist", "index.mjs"), "utf8");
    assert.match(esm, /^import Hls from "hls\.js";$/m);
    assert.ok(esm.length < 100_000, "hls.js is not inside");
    const cjs = readFileSync(path.join(project, "node_modules", "hlsrelay", "dist", "index.cjs"), "utf8");
    assert.match(cjs, /require\("hls\.js"\)/);
  });

  test("ESM import", () => {
    const got = node(
      "esm.mjs",
      `import * as sdk from "hlsrelay";
import { HlsWebSocket } from "hlsrelay/compat";
const store = new sdk.FragmentStore();
store.add({ seq: 7, epoch: "e", duration: 1, disc: false, time: 1764000000000, data: new ArrayBuffer(188), receivedAt: 0 });
const loaders = sdk.createLoaders(store);
console.log(JSON.stringify({
  exports: ["attach", "isSupported", "RelayClient", "FragmentStore", "createLoaders", "lowLatencyHlsConfig", "defaultFallbackUrl", "RelayError"].map((k) => typeof sdk[k]),
  playlist: store.playlist().includes("#EXT-X-MEDIA-SEQUENCE:7"),
  loaders: [typeof loaders.pLoader, typeof loaders.fLoader],
  error: new sdk.RelayError("AUTH_ERROR", "x") instanceof Error,
  compat: typeof HlsWebSocket,
  fallback: sdk.defaultFallbackUrl({ url: "wss://relay.example:8443/ws", stream: "room 1/cam", token: "a.b" }),
}));
`,
    );
    assert.deepEqual(got, {
      exports: ["function", "function", "function", "function", "function", "function", "function", "function"],
      playlist: true,
      loaders: ["function", "function"],
      error: true,
      compat: "function",
      fallback: "https://relay.example:8443/hls/room%201/cam/index.m3u8?token=a.b",
    });
  });

  test("CommonJS require", () => {
    const got = node(
      "cjs.cjs",
      `const sdk = require("hlsrelay");
const compat = require("hlsrelay/compat");
const c = new sdk.RelayClient({ url: "ws://127.0.0.1:1/", stream: "s" });
console.log(JSON.stringify({
  client: c.state,
  config: sdk.lowLatencyHlsConfig(1).liveSyncDuration,
  compat: typeof compat.HlsWebSocket.isSupported,
  supported: compat.HlsWebSocket.isSupported(),
}));
`,
    );
    assert.deepEqual(got, { client: "idle", config: 1, compat: "function", supported: false });
  });

  test("script tag: the IIFE sets its global and uses the page's Hls", () => {
    const dist = path.join(project, "node_modules", "hlsrelay", "dist");
    const script = (file: string, withHls: boolean): Record<string, unknown> => {
      // What a browser page offers the script besides hls.js.
      const window: Record<string, unknown> = { TextEncoder, TextDecoder, URL, setTimeout, clearTimeout, setInterval, clearInterval, console };
      window.window = window;
      window.self = window;
      if (withHls) window.Hls = class FakeHls { static isSupported(): boolean { return true; } };
      vm.createContext(window);
      vm.runInContext(readFileSync(path.join(dist, file), "utf8"), window, { filename: file });
      return window;
    };
    const code = readFileSync(path.join(dist, "hlsrelay.min.js"), "utf8");
    assert.ok(code.length < 60_000, `hls.js is not inside (${code.length} bytes)`);
    assert.doesNotMatch(code, /require\(|import\s*[{*\w]/, "a plain script");

    const page = script("hlsrelay.min.js", false);
    const HlsRelay = page.HlsRelay as Record<string, unknown>;
    assert.equal(typeof HlsRelay, "object");
    for (const k of ["attach", "isSupported", "RelayClient", "FragmentStore", "createLoaders", "RelayError"]) assert.equal(typeof HlsRelay[k], "function", k);
    assert.equal((HlsRelay.isSupported as () => boolean)(), false, "no Hls on the page");
    // hls.js's script may come after: Hls is looked up when needed.
    page.Hls = class { static isSupported(): boolean { return true; } };
    assert.equal((HlsRelay.isSupported as () => boolean)(), true);

    const compatPage = script("hlsrelay-compat.min.js", true);
    const cdn = compatPage.HlsWebSocketCdn as { HlsWebSocket?: { isSupported(): boolean } };
    assert.equal(typeof cdn.HlsWebSocket, "function");
    assert.equal(cdn.HlsWebSocket?.isSupported(), true);
    assert.equal(compatPage.HlsRelay, undefined);
  });

  test("TypeScript resolves the types of both entry points", () => {
    writeFileSync(
      path.join(project, "main.ts"),
      `import Hls from "hls.js";
import { attach, createLoaders, FragmentStore, RelayClient, type LatencyReading, type RelayError } from "hlsrelay";
import { HlsWebSocket, type HlsWebSocketCdnClientOptions } from "hlsrelay/compat";
const store = new FragmentStore({ window: 6 });
const hls = new Hls({ ...createLoaders(store), lowLatencyMode: true });
hls.loadSource(store.playlistUrl);
const client = new RelayClient({ url: "wss://relay.example/", stream: "s", token: () => "t" });
client.on("fragment", (f) => store.add(f));
client.on("error", (e: RelayError) => console.log(e.code, e.fromServer));
export function play(video: HTMLVideoElement): number | null {
  const p = attach(video, { url: "wss://relay.example/", stream: "s", hlsConfig: { liveSyncDuration: 2 } });
  p.on("latency", (r: LatencyReading) => console.log(r.glass));
  const opts: HlsWebSocketCdnClientOptions = { cdnServerUrl: "wss://r/", streamId: "s", authToken: "t", delay: 3 };
  const old = new HlsWebSocket(opts);
  old.addEventListener("error", (e: Error) => console.log(e.message));
  old.setDelayOptions(2, 4);
  return p.latency().glass;
}
`,
    );
    for (const resolution of [
      { module: "esnext", moduleResolution: "bundler" },
      { module: "node16", moduleResolution: "node16" },
    ]) {
      writeFileSync(
        path.join(project, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: "es2020", lib: ["es2020", "dom"], types: [], ...resolution }, files: ["main.ts"] }),
      );
      const tsc = path.join(repoRoot, "node_modules", ".bin", "tsc");
      assert.ok(existsSync(tsc));
      try {
        run(tsc, ["-p", "tsconfig.json"], project);
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        assert.fail(`tsc (${resolution.moduleResolution}) failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
      }
    }
  });
});
