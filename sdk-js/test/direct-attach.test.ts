import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import type { HlsConfig } from "hls.js";
import { attach, type AttachOptions, type HlsClass, type Player, type PlayerEvents } from "../src/player";
import {
  eventually,
  FakeMediaSource,
  FakeVideo,
  fixture,
  installObjectUrls,
  sleep,
  splitFmp4,
  uninstallObjectUrls,
} from "./helpers/direct-media";
import { FakeWebSocket, FakeWebSocketCtor } from "./helpers/fake-websocket";

// attach(video, { mode: "direct" }) over a fake relay socket, with the in-memory
// MediaSource; a stand-in hls.js for the fallbacks to hls mode.

class FakeHls {
  static instances: FakeHls[] = [];
  static Events = { ERROR: "hlsError", MANIFEST_PARSED: "hlsManifestParsed" };
  static isSupported(): boolean {
    return true;
  }
  readonly calls: string[] = [];
  readonly config: Record<string, unknown>;
  playingDate: Date | null = null;
  latency = 0;
  constructor(config: Partial<HlsConfig>) {
    this.config = { ...config };
    FakeHls.instances.push(this);
  }
  on(): void {}
  attachMedia(): void {
    this.calls.push("attachMedia");
  }
  loadSource(): void {
    this.calls.push("loadSource");
  }
  recoverMediaError(): void {}
  destroy(): void {
    this.calls.push("destroy");
  }
}

const file = splitFmp4(fixture("avc-aac.mp4"));
const players: Player[] = [];

function play(video: FakeVideo, opts: Partial<AttachOptions> = {}): Player {
  const p = attach(video as unknown as HTMLVideoElement, {
    url: "wss://relay.example/",
    stream: "room1/cam",
    token: "tok",
    mode: "direct",
    Hls: FakeHls as unknown as HlsClass,
    WebSocket: FakeWebSocketCtor,
    latencyIntervalMs: 0,
    direct: { MediaSource: FakeMediaSource },
    ...opts,
  });
  players.push(p);
  return p;
}

async function relay(): Promise<FakeWebSocket> {
  await eventually(() => FakeWebSocket.instances.length > 0, "the socket");
  const ws = FakeWebSocket.last();
  ws.open();
  return ws;
}

function record(p: Player): string[] {
  const seen: string[] = [];
  const names: Array<keyof PlayerEvents> = ["open", "fallback", "error", "ended", "discontinuity"];
  for (const name of names) {
    p.on(name, (...args: unknown[]) => seen.push(`${name} ${JSON.stringify(args[0] ?? null)}`));
  }
  return seen;
}

describe("attach: direct mode", () => {
  before(() => installObjectUrls());
  after(() => uninstallObjectUrls());
  beforeEach(() => {
    FakeWebSocket.reset();
    FakeHls.instances = [];
    FakeMediaSource.instances = [];
    FakeMediaSource.supported = () => true;
  });
  afterEach(() => {
    for (const p of players.splice(0)) p.destroy();
  });

  test("asks for parts and plays them through MSE, without hls.js", async () => {
    const video = new FakeVideo();
    const p = play(video);
    const seen = record(p);
    assert.equal(p.mode, "direct");
    assert.ok(p.direct);
    assert.equal(p.hls, null);
    assert.ok(p.client);
    const ws = await relay();
    assert.match(ws.sent[0] ?? "", /^PULL:/);
    assert.match(ws.sent[0] ?? "", /&ext=1&parts=1$/);
    assert.doesNotMatch(ws.sent[0] ?? "", /max_initial_fragments/, "the relay starts at the latest independent part");
    ws.text("OK:ext=1&epoch=E&parts=1");
    ws.text("I");
    ws.binary(file.init);
    const t = Date.now() - 300;
    for (let i = 0; i < 3; i++) {
      ws.text(`P:seq=7&part=${i}&duration=0.2${i === 0 ? "&independent=1" : ""}&time=${t + i * 200}`);
      const part = file.parts[i];
      assert.ok(part);
      ws.binary(part);
    }
    await eventually(() => p.direct?.stats.parts === 3, "the parts appended");
    assert.equal(video.plays, 1);
    video.currentTime = 0.1;
    const r = p.latency();
    assert.ok(r.glass !== null && r.glass >= 0.3 && r.glass < 0.5, `glass ${String(r.glass)}`);
    assert.ok(r.edge !== null && Math.abs(r.edge - 0.5) < 1e-9);
    ws.text("CLOSE");
    assert.deepEqual(seen, [`open ${JSON.stringify({ ext: true, epoch: "E", resumed: false, reconnect: false, parts: true })}`, "ended null"]);
    assert.equal(FakeHls.instances.length, 0);
  });

  test("an MPEG-TS stream: falls back to hls mode on a new connection", async () => {
    const video = new FakeVideo();
    const p = play(video);
    const seen = record(p);
    const ws = await relay();
    ws.text("OK:ext=1&epoch=E&parts=1");
    ws.text(`F:duration=1&seq=3&time=${Date.now() - 1000}`);
    const ts = new Uint8Array(188 * 2);
    ts[0] = ts[188] = 0x47;
    ws.binary(ts);
    await eventually(() => p.mode === "mse", "the fallback");
    assert.equal(p.direct, null);
    assert.equal(FakeHls.instances.length, 1);
    assert.ok(p.hls);
    assert.deepEqual(ws.closedWith, { code: 1000, reason: "client closed" });
    assert.equal(video.src, "", "the MediaSource is detached");
    assert.ok(seen.includes(`fallback ${JSON.stringify({ reason: "mpegts", detail: "the stream is MPEG-TS", mode: "mse" })}`), seen.join("\n"));
    await eventually(() => FakeWebSocket.instances.length === 2, "the new socket");
    const ws2 = FakeWebSocket.last();
    ws2.open();
    assert.match(ws2.sent[0] ?? "", /&max_initial_fragments=3&ext=1&parts=1$/, "hls mode's PULL");
  });

  test("a relay without parts: falls back", async () => {
    const p = play(new FakeVideo());
    const seen = record(p);
    const ws = await relay();
    ws.text("OK:ext=1&epoch=E");
    await eventually(() => p.mode === "mse", "the fallback");
    assert.ok(seen.some((s) => s.startsWith('fallback {"reason":"no-parts"')), seen.join("\n"));
    assert.equal(seen.filter((s) => s.startsWith("open")).length, 1, "the open before the fallback");
  });

  test("without MSE: hls mode at once, and a fallback event", async () => {
    const p = play(new FakeVideo(), { direct: {} });
    const seen = record(p);
    assert.equal(p.mode, "mse", "no MediaSource in Node");
    assert.ok(p.hls);
    await sleep(0);
    assert.deepEqual(seen, [`fallback ${JSON.stringify({ reason: "unsupported", detail: "Media Source Extensions are not available", mode: "mse" })}`]);
  });

  test("hls mode (the default) asks for parts too", async () => {
    const p = play(new FakeVideo(), { mode: undefined });
    assert.equal(p.mode, "mse");
    assert.equal(p.direct, null);
    const ws = await relay();
    assert.match(ws.sent[0] ?? "", /&ext=1&parts=1$/);
  });

  test("destroy: closes the socket and detaches the video", async () => {
    const video = new FakeVideo();
    const p = play(video);
    const ws = await relay();
    ws.text("OK:ext=1&epoch=E&parts=1");
    assert.ok(video.src !== "");
    p.destroy();
    assert.equal(video.src, "");
    assert.deepEqual(ws.closedWith, { code: 1000, reason: "client closed" });
    assert.equal(p.direct, null);
    assert.equal(p.client, null);
  });
});
