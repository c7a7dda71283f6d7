import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import type { Fragment, Part } from "../src/client";
import { DirectPlayer, type DirectFallbackReason, type DirectSourceEvents } from "../src/direct/player";
import { parseInit } from "../src/direct/mp4";
import { Emitter, type Listener } from "../src/emitter";
import {
  eventually,
  FakeMediaSource,
  FakeVideo,
  fixture,
  installObjectUrls,
  own,
  shiftPart,
  sleep,
  splitFmp4,
  uninstallObjectUrls,
} from "./helpers/direct-media";

// DirectPlayer with an in-memory MediaSource and <video> (helpers/direct-media.ts) fed
// the parts of a real fMP4 file (test/fixtures/avc-aac.mp4: 10 parts of 200 ms, key
// frames in parts 0 and 5).

const file = splitFmp4(fixture("avc-aac.mp4"));
const initInfo = parseInit(file.init);
if (!initInfo) throw new Error("fixture init");
const MIME = 'video/mp4; codecs="avc1.42c01e,mp4a.40.2"';

/** The relay's side: a RelayClient stand-in that emits what the test says. */
class FakeSource extends Emitter<DirectSourceEvents> {
  /** Listeners added and not removed. */
  active = 0;
  override on<K extends keyof DirectSourceEvents>(name: K, listener: Listener<DirectSourceEvents, K>): () => void {
    this.active++;
    const off = super.on(name, listener);
    return () => {
      this.active--;
      off();
    };
  }
  send<K extends keyof DirectSourceEvents>(name: K, ...args: DirectSourceEvents[K]): void {
    this.emit(name, ...args);
  }
  open(parts = true): void {
    this.send("open", { ext: true, epoch: "E", resumed: false, reconnect: false, parts });
  }
  init(data: Uint8Array = file.init): void {
    this.send("init", { epoch: "E", data: own(data), receivedAt: Date.now() });
  }
}

/**
 * Part `n` of an endless stream made of the fixture's parts: `n % 10` of the file, moved
 * by `offset` + 2 s per loop; key frames at every 5th part.
 */
function part(n: number, opts: { offset?: number; disc?: boolean; time?: number; seq?: number } = {}): Part {
  const src = file.parts[n % file.parts.length];
  if (!src || !initInfo) throw new Error("fixture");
  const p: Part = {
    seq: opts.seq ?? Math.floor(n / 5),
    index: n % 5,
    epoch: "E",
    duration: 0.2,
    independent: n % 5 === 0,
    disc: opts.disc ?? false,
    data: own(shiftPart(src, initInfo, (opts.offset ?? 0) + Math.floor(n / file.parts.length) * 2)),
    receivedAt: Date.now(),
  };
  if (opts.time !== undefined) p.time = opts.time;
  return p;
}

let players: DirectPlayer[] = [];
function play(video: FakeVideo, source: FakeSource, opts: Record<string, unknown> = {}): DirectPlayer {
  const p = new DirectPlayer(video as unknown as HTMLVideoElement, source, { MediaSource: FakeMediaSource, intervalMs: 20, ...opts });
  players.push(p);
  return p;
}

function sbLog(video: FakeVideo): string[] {
  return video.sourceBuffer?.log ?? [];
}

describe("direct mode: DirectPlayer", () => {
  before(() => installObjectUrls());
  after(() => uninstallObjectUrls());
  beforeEach(() => {
    FakeMediaSource.instances = [];
    FakeMediaSource.supported = () => true;
  });
  afterEach(() => {
    for (const p of players) p.destroy();
    players = [];
  });

  test("start: MediaSource opened at once; the first init and independent part create one SourceBuffer, are appended, then seek and play", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    assert.ok(video.mediaSource, "the MediaSource is attached before any data");
    assert.equal(video.src.startsWith("blob:"), true);
    await eventually(() => video.mediaSource?.readyState === "open", "sourceopen");
    source.open();
    source.init();
    source.send("part", part(0, { offset: 100 }));
    await eventually(() => sbLog(video).length === 2, "init and part");
    assert.equal(video.mediaSource?.buffers.length, 1, "one SourceBuffer for audio and video");
    assert.equal(video.sourceBuffer?.type, MIME);
    assert.equal(video.sourceBuffer?.mode, "segments");
    assert.deepEqual(sbLog(video), ["init", "part 100.00"]);
    await eventually(() => video.plays === 1, "play()");
    assert.equal(video.currentTime, 100, "seeked to the start of the buffered media");
    const s = p.stats;
    assert.equal(s.parts, 1);
    assert.equal(s.inits, 1);
    assert.ok(s.firstFrameMs !== null && s.firstFrameMs >= 0);
    assert.equal(p.initInfo?.mimeType, MIME);
  });

  test("init and parts before sourceopen are held, then appended in order", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    play(video, source);
    source.open();
    source.init();
    for (let i = 0; i < 3; i++) source.send("part", part(i));
    await eventually(() => sbLog(video).length === 4, "appends");
    assert.deepEqual(sbLog(video), ["init", "part 0.00", "part 0.20", "part 0.40"]);
  });

  test("parts before the init, and before the first independent part, are dropped", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    source.open();
    source.send("part", part(0));
    source.init();
    for (let i = 1; i <= 6; i++) source.send("part", part(i));
    await eventually(() => sbLog(video).length === 3, "appends");
    assert.deepEqual(sbLog(video), ["init", "part 1.00", "part 1.20"]);
    assert.equal(p.stats.dropped, 5);
    assert.equal(video.currentTime, 1);
  });

  test("latency: glass is now minus the time of the part holding the frame on screen", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    assert.deepEqual(p.latency(), { glass: null, edge: null, buffer: 0, playbackRate: 1 });
    source.open();
    source.init();
    const t0 = Date.now() - 2000;
    for (let i = 0; i < 5; i++) source.send("part", part(i, { time: t0 + i * 200 }));
    await eventually(() => p.stats.parts === 5, "appends");
    video.currentTime = 0.5; // part 2: 0.4..0.6
    const r = p.latency();
    assert.ok(r.glass !== null && Math.abs(r.glass - (Date.now() - (t0 + 400)) / 1000) < 0.05, `glass ${String(r.glass)}`);
    assert.ok(r.edge !== null && Math.abs(r.edge - 0.5) < 1e-9, `edge ${String(r.edge)}`);
    assert.ok(Math.abs(r.buffer - 0.5) < 1e-9);
    video.currentTime = 0.1;
    const r0 = p.latency();
    assert.ok(r0.glass !== null && Math.abs(r0.glass - (Date.now() - t0) / 1000) < 0.05, "part 0");
    video.currentTime = 7;
    assert.equal(p.latency().glass, null, "no media there");
  });

  test("a part without a publish time: no glass reading", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    source.open();
    source.init();
    source.send("part", part(0));
    await eventually(() => p.stats.parts === 1, "append");
    video.currentTime = 0.1;
    assert.equal(p.latency().glass, null);
  });

  test("a discontinuity re-appends the init segment before its part", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    play(video, source);
    source.open();
    source.init();
    source.send("part", part(0));
    source.send("part", part(1));
    source.send("part", part(5, { disc: true }));
    await eventually(() => sbLog(video).length === 5, "appends");
    assert.deepEqual(sbLog(video), ["init", "part 0.00", "part 0.20", "init", "part 1.00"]);
  });

  test("a timeline that goes back: all media removed, init, the new part, seek to it", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    source.open();
    source.init();
    for (let i = 0; i < 5; i++) source.send("part", part(i, { offset: 100 }));
    await eventually(() => p.stats.parts === 5, "appends");
    video.currentTime = 100.5;
    source.send("part", part(0, { disc: true, seq: 0 }));
    await eventually(() => p.stats.parts === 6, "the new part");
    assert.deepEqual(sbLog(video).slice(6), ["remove 100.00 101.00", "init", "part 0.00"]);
    assert.equal(video.currentTime, 0);
    assert.deepEqual(video.sourceBuffer?.ranges.list, [[0, 0.2]]);
  });

  test("a timeline that jumps ahead: seek to the new media (the old is left to eviction)", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    source.open();
    source.init();
    for (let i = 0; i < 3; i++) source.send("part", part(i));
    source.send("part", part(5, { offset: 50 }));
    await eventually(() => p.stats.parts === 4, "appends");
    const log = sbLog(video);
    assert.deepEqual(log.slice(0, 5), ["init", "part 0.00", "part 0.20", "part 0.40", "part 51.00"], "no removal before");
    assert.equal(video.currentTime, 51);
  });

  test("init segments: the same bytes again are ignored; new ones are appended before the next key frame; new codecs change the type", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    source.open();
    source.init();
    source.send("part", part(0));
    source.init(); // a reconnect
    source.send("part", part(1));
    await eventually(() => p.stats.parts === 2, "appends");
    assert.deepEqual(sbLog(video), ["init", "part 0.00", "part 0.20"]);

    const other = splitFmp4(fixture("hevc-opus.mp4")).init;
    source.init(other);
    source.send("part", part(2)); // not independent: dropped
    source.send("part", part(5));
    await eventually(() => p.stats.parts === 3, "the key frame");
    assert.deepEqual(sbLog(video).slice(3), ['changeType video/mp4; codecs="hvc1.1.6.L30.90,opus"', "init", "part 1.00"]);
    assert.equal(p.stats.dropped, 1);
    assert.equal(p.initInfo?.mimeType, 'video/mp4; codecs="hvc1.1.6.L30.90,opus"');
  });

  test("an fMP4 fragment sent whole is appended; a fragment received in parts is not appended twice", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    source.open();
    source.init();
    const parts = [0, 1, 2, 3, 4].map((i) => part(i));
    for (const x of parts) source.send("part", x);
    const fragment = (data: ArrayBuffer, extra: Partial<Fragment> = {}): Fragment => ({ seq: 0, epoch: "E", duration: 1, disc: false, data, receivedAt: Date.now(), ...extra });
    source.send("fragment", fragment(new ArrayBuffer(8), { parts, complete: true }));
    source.send("fragment", fragment(part(5).data, { seq: 1, time: Date.now() - 100 }));
    await eventually(() => p.stats.parts === 6, "appends");
    assert.deepEqual(sbLog(video).slice(-2), ["part 0.80", "part 1.00"]);
    await sleep(20);
    assert.equal(p.stats.parts, 6);
  });

  const fallbacks: Array<{ name: string; run: (s: FakeSource) => void; reason: DirectFallbackReason }> = [
    { name: "a relay without parts", reason: "no-parts", run: (s) => s.open(false) },
    {
      name: "an MPEG-TS stream",
      reason: "mpegts",
      run: (s) => {
        s.open();
        const ts = new Uint8Array(188 * 3);
        for (let i = 0; i < 3; i++) ts[i * 188] = 0x47;
        s.send("fragment", { seq: 0, epoch: "E", duration: 1, disc: false, data: ts.buffer, receivedAt: Date.now() });
      },
    },
    {
      name: "codecs the browser cannot play",
      reason: "codec",
      run: (s) => {
        FakeMediaSource.supported = (t) => !t.includes("hvc1");
        s.open();
        s.init(splitFmp4(fixture("hevc-opus.mp4")).init);
      },
    },
    {
      name: "an unreadable init segment",
      reason: "no-init",
      run: (s) => {
        s.open();
        s.init(new Uint8Array([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65]));
      },
    },
  ];
  for (const f of fallbacks) {
    test(`falls back on ${f.name}: ${f.reason}`, async () => {
      const video = new FakeVideo();
      const source = new FakeSource();
      const p = play(video, source);
      const seen: string[] = [];
      p.on("fallback", (i) => seen.push(i.reason));
      f.run(source);
      assert.deepEqual(seen, [f.reason]);
      source.init();
      source.send("part", part(0));
      await sleep(20);
      assert.equal(p.stats.parts, 0, "nothing more is played");
    });
  }

  test("a media error starts over with a new MediaSource; three a minute, then error", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    const errors: string[] = [];
    p.on("error", (e) => errors.push(e.code));
    source.open();
    source.init();
    source.send("part", part(0));
    await eventually(() => p.stats.parts === 1, "append");
    let n = 1;
    for (let round = 1; round <= 3; round++) {
      const sb = video.sourceBuffer;
      assert.ok(sb);
      sb.failNext = true;
      source.send("part", part(n++));
      await eventually(() => p.stats.recoveries === round, `recovery ${round}`);
      assert.equal(FakeMediaSource.instances.length, round + 1, "a new MediaSource");
      source.send("part", part(n++)); // not independent: waits for a key frame
      while (n % 5 !== 0) n++;
      source.send("part", part(n++));
      await eventually(() => video.sourceBuffer !== sb && sbLog(video).length === 2, "init and key frame in the new SourceBuffer");
      assert.equal(sbLog(video)[0], "init");
    }
    const sb = video.sourceBuffer;
    assert.ok(sb);
    sb.failNext = true;
    source.send("part", part(n++));
    await eventually(() => errors.length === 1, "the error");
    assert.deepEqual(errors, ["MEDIA_ERROR"]);
    assert.equal(p.stats.recoveries, 3);
  });

  test("the stream's end: endOfStream once everything is appended", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    play(video, source);
    source.open();
    source.init();
    source.send("part", part(0));
    source.send("part", part(1));
    source.send("ended");
    const ms = video.mediaSource;
    assert.ok(ms);
    await eventually(() => ms.endOfStreamCalls === 1, "endOfStream");
    assert.equal(sbLog(video).length, 3);
  });

  test("memory: media and timeline spans far behind the playhead go", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source, { backBuffer: 2 });
    source.open();
    source.init();
    for (let n = 0; n < 100; n++) {
      source.send("part", part(n));
      if (n % 10 === 9) {
        await eventually(() => p.stats.parts === n + 1, "appends");
        video.currentTime = n * 0.2;
      }
    }
    source.send("part", part(100));
    await eventually(() => p.stats.parts === 101, "the last append");
    await sleep(50);
    const first = video.sourceBuffer?.ranges.list[0];
    assert.ok(first && first[0] >= 19.8 - 2 - 1.01 && first[0] <= 19.8 - 2, `media kept from ${String(first?.[0])}`);
    assert.ok(p.timeline.size <= 20, `${p.timeline.size} spans`);
  });

  test("the controller runs: a stall with media ahead is nudged", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source, { latency: { stallMs: 20 } });
    source.open();
    source.init();
    for (let i = 0; i < 10; i++) source.send("part", part(i));
    await eventually(() => p.stats.parts === 10, "appends");
    video.currentTime = 0.5; // the fake video does not play: the playhead stays
    await eventually(() => p.stats.nudges >= 1, "a nudge");
    assert.ok(video.currentTime > 0.5, "nudged");
    assert.equal(p.controller.targetBuffer, 0.25);
  });

  test("destroy: detaches from the video and the source; nothing runs afterwards", async () => {
    const video = new FakeVideo();
    const source = new FakeSource();
    const p = play(video, source);
    source.open();
    source.init();
    source.send("part", part(0));
    await eventually(() => p.stats.parts === 1, "append");
    const sb = video.sourceBuffer;
    p.destroy();
    assert.equal(video.src, "");
    assert.equal(video.loads, 1);
    assert.equal(source.active, 0, "source listeners removed");
    assert.equal(video.listeners("waiting") + video.listeners("playing") + video.listeners("error"), 0);
    assert.equal(sb?.listeners("updateend"), 0);
    source.send("part", part(1));
    assert.equal(p.stats.parts, 1);
    p.destroy();
  });
});
