import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { HlsConfig } from "hls.js";
import { attach, isSupported, type HlsClass, type Player } from "../src/player";
import { FakeWebSocket, FakeWebSocketCtor } from "./helpers/fake-websocket";
import { until } from "./helpers/relay";

// attach() with a stand-in for hls.js and the <video> element (Node has neither MSE nor
// a DOM); the real hls.js with the loaders is tested in hlsjs.test.ts.

type Handler = (event: string, data: unknown) => void;

class FakeHls {
  static supported = true;
  static instances: FakeHls[] = [];
  static Events = { ERROR: "hlsError", MANIFEST_PARSED: "hlsManifestParsed" };
  static isSupported(): boolean {
    return FakeHls.supported;
  }
  readonly config: Record<string, unknown>;
  readonly calls: string[] = [];
  readonly handlers: Record<string, Handler[]> = {};
  playingDate: Date | null = null;
  latency = 0;
  constructor(config: Partial<HlsConfig>) {
    this.config = { ...config };
    FakeHls.instances.push(this);
  }
  on(event: string, h: Handler): void {
    (this.handlers[event] ??= []).push(h);
  }
  trigger(event: string, data: unknown): void {
    for (const h of this.handlers[event] ?? []) h(event, data);
  }
  attachMedia(): void {
    this.calls.push("attachMedia");
  }
  loadSource(url: string): void {
    this.calls.push(`loadSource ${url} liveSync=${String(this.config.liveSyncDuration)}`);
  }
  recoverMediaError(): void {
    this.calls.push("recoverMediaError");
  }
  destroy(): void {
    this.calls.push("destroy");
  }
}
const Hls = FakeHls as unknown as HlsClass;

class FakeVideo {
  src = "";
  paused = true;
  currentTime = 0;
  playbackRate = 1;
  buffered = { length: 1, start: () => 0, end: () => 12.5 };
  plays = 0;
  nativeHls = false;
  canPlayType(type: string): string {
    return this.nativeHls && type === "application/vnd.apple.mpegurl" ? "maybe" : "";
  }
  play(): Promise<void> {
    this.plays++;
    this.paused = false;
    return Promise.resolve();
  }
  addEventListener(): void {}
  removeEventListener(): void {}
  removeAttribute(name: string): void {
    if (name === "src") this.src = "";
  }
  load(): void {}
}

const players: Player[] = [];
function play(video: FakeVideo, opts: Record<string, unknown> = {}): Player {
  const p = attach(video as unknown as HTMLVideoElement, {
    url: "wss://relay.example:8443/",
    stream: "room1/cam",
    token: "tok",
    Hls,
    WebSocket: FakeWebSocketCtor,
    latencyIntervalMs: 0,
    ...opts,
  });
  players.push(p);
  return p;
}

describe("attach", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    FakeHls.instances = [];
    FakeHls.supported = true;
  });
  afterEach(() => {
    for (const p of players.splice(0)) p.destroy();
  });

  test("low-latency hls.js settings, overridable, with the relay loaders; loads once a fragment exists", async () => {
    const video = new FakeVideo();
    const p = play(video, { hlsConfig: { maxBufferLength: 8, lowLatencyMode: false } });
    assert.equal(p.mode, "mse");
    const hls = FakeHls.instances[0];
    assert.ok(hls);
    assert.equal(p.hls, hls);
    assert.equal(hls.config.lowLatencyMode, false, "user setting wins");
    assert.equal(hls.config.maxBufferLength, 8);
    assert.equal(hls.config.liveSyncDuration, 1);
    assert.equal(hls.config.initialLiveManifestSize, 1);
    assert.equal(typeof hls.config.pLoader, "function");
    assert.equal(typeof hls.config.fLoader, "function");
    assert.deepEqual(hls.calls, ["attachMedia"]);

    await until(() => FakeWebSocket.instances.length === 1, 1000, "the socket");
    const ws = FakeWebSocket.last();
    assert.equal(ws.url, "wss://relay.example:8443/");
    ws.open();
    assert.match(ws.sent[0] ?? "", /&max_initial_fragments=3&/, "only the newest of the backlog");
    ws.text("OK:ext=1&epoch=E");
    // Published 2 s ago, 2 s long: the live edge, so no more backlog is waited for.
    ws.text(`F:duration=2&seq=4&time=${Date.now() - 2000}`);
    ws.binary(new Uint8Array([0x47]));
    assert.deepEqual(hls.calls, ["attachMedia", "loadSource http://hlsrelay.invalid/live.m3u8 liveSync=2"], "tuned to 2 s fragments, then loaded");
    assert.equal(hls.config.maxBufferLength, 8, "a user setting is not re-tuned");
    assert.equal(p.store?.newest, 4);

    hls.trigger(FakeHls.Events.MANIFEST_PARSED, {});
    assert.equal(video.plays, 1, "autoplay");
  });

  test("loads once the backlog is in: the first playlist lists its newest fragments", async () => {
    play(new FakeVideo());
    const hls = FakeHls.instances[0];
    assert.ok(hls);
    await until(() => FakeWebSocket.instances.length === 1, 1000, "the socket");
    const ws = FakeWebSocket.last();
    ws.open();
    ws.text("OK:ext=1&epoch=E");
    const t = Date.now() - 10_000; // published 10, 9 and 8 s ago: behind the live edge
    for (let seq = 0; seq < 3; seq++) {
      assert.deepEqual(hls.calls, ["attachMedia"], `not loaded after ${seq} of the 3 requested fragments`);
      ws.text(`F:duration=1&seq=${seq}&time=${t + seq * 1000}`);
      ws.binary(new Uint8Array([0x47]));
    }
    assert.deepEqual(hls.calls, ["attachMedia", "loadSource http://hlsrelay.invalid/live.m3u8 liveSync=1"]);
    assert.match(players[0]?.store?.playlist() ?? "", /#EXT-X-MEDIA-SEQUENCE:1\n/, "the newest two of the backlog");
  });

  test("loads after a quiet moment when the relay holds less than requested", async () => {
    play(new FakeVideo());
    const hls = FakeHls.instances[0];
    assert.ok(hls);
    await until(() => FakeWebSocket.instances.length === 1, 1000, "the socket");
    const ws = FakeWebSocket.last();
    ws.open();
    ws.text("OK"); // a base-protocol relay: no publish time
    ws.text("F:duration=1");
    ws.binary(new Uint8Array([0x47]));
    assert.deepEqual(hls.calls, ["attachMedia"], "waits for more of the backlog");
    await until(() => hls.calls.length === 2, 1000, "the load");
    assert.equal(hls.calls[1], "loadSource http://hlsrelay.invalid/live.m3u8 liveSync=1");
  });

  test("latency readings: glass-to-glass from the program date-time on screen", () => {
    const video = new FakeVideo();
    video.currentTime = 10;
    const p = play(video);
    const hls = FakeHls.instances[0];
    assert.ok(hls);
    assert.deepEqual(p.latency(), { glass: null, edge: null, buffer: 2.5, playbackRate: 1 });
    hls.playingDate = new Date(Date.now() - 1200);
    hls.latency = 1.1;
    video.playbackRate = 1.25;
    const r = p.latency();
    assert.ok(r.glass !== null && r.glass >= 1.2 && r.glass < 1.5, `glass ${String(r.glass)}`);
    assert.equal(r.edge, 1.1);
    assert.equal(r.playbackRate, 1.25);
  });

  test("latency events while playing", async () => {
    const video = new FakeVideo();
    const p = play(video, { latencyIntervalMs: 20 });
    let n = 0;
    p.on("latency", () => n++);
    await new Promise((r) => setTimeout(r, 70));
    assert.equal(n, 0, "not while paused");
    video.paused = false;
    await until(() => n >= 2, 1000, "latency events");
  });

  test("relay events and errors reach the player; fatal media errors are recovered", async () => {
    const p = play(new FakeVideo());
    const events: string[] = [];
    p.on("open", (i) => events.push(`open ${i.epoch}`));
    p.on("error", (e) => events.push(`error ${e.code}`));
    p.on("ended", () => events.push("ended"));
    await until(() => FakeWebSocket.instances.length === 1, 1000, "the socket");
    const ws = FakeWebSocket.last();
    ws.open();
    ws.text("OK:ext=1&epoch=E");
    const hls = FakeHls.instances[0];
    assert.ok(hls);
    hls.trigger(FakeHls.Events.ERROR, { fatal: true, type: "mediaError", details: "bufferStalledError" });
    assert.ok(hls.calls.includes("recoverMediaError"));
    hls.trigger(FakeHls.Events.ERROR, { fatal: true, type: "networkError", details: "levelLoadError" });
    hls.trigger(FakeHls.Events.ERROR, { fatal: false, type: "networkError", details: "fragLoadError" });
    ws.text("CLOSE");
    assert.deepEqual(events, ["open E", "error MEDIA_ERROR", "ended"]);
    assert.equal(p.store?.ended, true);
  });

  test("without MSE: native HLS from the relay's HTTP URL, or a configured one", async () => {
    FakeHls.supported = false;
    const video = new FakeVideo();
    video.nativeHls = true;
    const p = play(video);
    assert.equal(p.mode, "native");
    assert.equal(p.hls, null);
    await until(() => video.src !== "", 1000, "the source");
    assert.equal(video.src, "https://relay.example:8443/hls/room1/cam/index.m3u8?token=tok");
    assert.equal(FakeWebSocket.instances.length, 0, "no WebSocket");

    const v2 = new FakeVideo();
    v2.nativeHls = true;
    play(v2, { fallbackUrl: ({ stream, token }: { stream: string; token: string }) => `https://cdn.example/${stream}.m3u8?t=${token}` });
    await until(() => v2.src !== "", 1000, "the source");
    assert.equal(v2.src, "https://cdn.example/room1/cam.m3u8?t=tok");

    const v3 = new FakeVideo();
    v3.nativeHls = true;
    assert.throws(() => play(v3, { fallbackUrl: false }), /neither MSE nor native HLS/);
  });

  test("isSupported follows hls.js", () => {
    assert.equal(isSupported(Hls), true);
    FakeHls.supported = false;
    assert.equal(isSupported(Hls), false);
  });

  test("destroy() stops the client and hls.js", async () => {
    const p = play(new FakeVideo());
    await until(() => FakeWebSocket.instances.length === 1, 1000, "the socket");
    const ws = FakeWebSocket.last();
    ws.open();
    const hls = FakeHls.instances[0];
    p.destroy();
    assert.ok(hls?.calls.includes("destroy"));
    assert.deepEqual(ws.closedWith, { code: 1000, reason: "client closed" });
    assert.equal(p.client, null);
  });
});
