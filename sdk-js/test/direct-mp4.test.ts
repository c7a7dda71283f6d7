import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { isMpegTs, parseChunk, parseInit, topLevelBoxes, type TrackInfo } from "../src/direct/mp4";
import { fixture, splitFmp4 } from "./helpers/direct-media";
import { repoRoot } from "./helpers/relay";

// The fixtures are ffmpeg's fMP4/CMAF output (test/fixtures/make-fixtures.sh); the
// expected codec strings were read off the avcC/hvcC/esds bytes by hand.

describe("direct mode: init segments", () => {
  const cases = [
    {
      name: "avc-aac.mp4",
      mimeType: 'video/mp4; codecs="avc1.42c01e,mp4a.40.2"',
      tracks: [
        { id: 1, kind: "video", codec: "avc1.42c01e", timescale: 12800, width: 320, height: 180 },
        { id: 2, kind: "audio", codec: "mp4a.40.2", timescale: 48000, channels: 2, sampleRate: 48000 },
      ],
    },
    {
      name: "hevc-opus.mp4",
      mimeType: 'video/mp4; codecs="hvc1.1.6.L30.90,opus"',
      tracks: [
        { id: 1, kind: "video", codec: "hvc1.1.6.L30.90", timescale: 12800, width: 160, height: 90 },
        { id: 2, kind: "audio", codec: "opus", timescale: 48000, channels: 2, sampleRate: 48000 },
      ],
    },
    {
      name: "video-only.mp4",
      mimeType: 'video/mp4; codecs="avc3.64000b"',
      tracks: [{ id: 1, kind: "video", codec: "avc3.64000b", timescale: 12800, width: 160, height: 90 }],
    },
    {
      name: "audio-only.mp4",
      mimeType: 'audio/mp4; codecs="mp4a.40.2"',
      // Mono, but the sample entry says 2 channels (as ISO files may): its value is reported.
      tracks: [{ id: 1, kind: "audio", codec: "mp4a.40.2", timescale: 44100, channels: 2, sampleRate: 44100 }],
    },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.mimeType}`, () => {
      const { init } = splitFmp4(fixture(c.name));
      assert.deepEqual(topLevelBoxes(init), ["ftyp", "moov"]);
      const info = parseInit(init);
      assert.ok(info);
      assert.equal(info.mimeType, c.mimeType);
      assert.equal(info.tracks.length, c.tracks.length);
      for (const [i, want] of c.tracks.entries()) {
        const got: TrackInfo | undefined = info.tracks[i];
        assert.ok(got);
        for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${c.name} track ${i} ${k}`);
      }
    });
  }

  test("the whole file (init + media) reads the same; an ArrayBuffer or a view of one", () => {
    const file = fixture("avc-aac.mp4");
    assert.equal(parseInit(file)?.mimeType, 'video/mp4; codecs="avc1.42c01e,mp4a.40.2"');
    const padded = new Uint8Array(file.length + 7);
    padded.set(file, 7);
    assert.equal(parseInit(padded.subarray(7))?.mimeType, 'video/mp4; codecs="avc1.42c01e,mp4a.40.2"');
    assert.equal(parseInit(file.slice().buffer)?.tracks.length, 2);
  });

  test("not an init segment, truncated or corrupt: null, never a throw", () => {
    const { init, parts } = splitFmp4(fixture("avc-aac.mp4"));
    assert.equal(parseInit(new Uint8Array(0)), null);
    assert.equal(parseInit(parts[0] ?? new Uint8Array(0)), null, "a media chunk");
    assert.equal(parseInit(new Uint8Array([0x47, 0x40, 0x00, 0x10])), null, "MPEG-TS");
    for (let cut = 0; cut < init.length; cut += 7) {
      const r = parseInit(init.subarray(0, cut));
      assert.ok(r === null || r.tracks.length > 0);
    }
    // Garbage inside the boxes: sizes pointing anywhere.
    let seed = 1;
    for (let round = 0; round < 200; round++) {
      const bad = init.slice();
      for (let k = 0; k < 4; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        bad[seed % bad.length] = seed & 0xff;
      }
      assert.doesNotThrow(() => parseInit(bad));
    }
  });
});

describe("direct mode: media chunks", () => {
  const { init, parts } = splitFmp4(fixture("avc-aac.mp4"));
  const info = parseInit(init);
  assert.ok(info);

  test("each part's media time: 200 ms, back to back, key frames at 0 and 1 s", () => {
    assert.equal(parts.length, 10);
    let end = 0;
    const independent: number[] = [];
    for (const [i, p] of parts.entries()) {
      const c = parseChunk(p, info);
      assert.ok(c, `part ${i}`);
      assert.ok(Math.abs(c.start - end) < 1e-9, `part ${i} starts where ${i - 1} ended`);
      assert.ok(Math.abs(c.end - c.start - 0.2) < 1e-9, `part ${i} lasts 0.2 s`);
      assert.equal(c.tracks.length, 2, "video and audio");
      assert.equal(c.tracks[0]?.samples, 5, "5 frames at 25 fps");
      if (c.independent) independent.push(i);
      end = c.end;
    }
    assert.deepEqual(independent, [0, 5]);
  });

  test("a chunk of several moof+mdat pairs covers them all", () => {
    const a = parts[1];
    const b = parts[2];
    assert.ok(a && b);
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const c = parseChunk(both, info);
    assert.ok(c);
    assert.ok(Math.abs(c.start - 0.2) < 1e-9 && Math.abs(c.end - 0.6) < 1e-9, `${c.start}..${c.end}`);
    assert.equal(c.tracks[0]?.samples, 10);
    assert.equal(c.independent, false);
  });

  test("not a chunk, or corrupt: null or a result, never a throw", () => {
    assert.equal(parseChunk(init, info), null);
    assert.equal(parseChunk(new Uint8Array(3), info), null);
    const p = parts[0];
    assert.ok(p);
    for (let cut = 0; cut < 300; cut += 5) assert.doesNotThrow(() => parseChunk(p.subarray(0, cut), info));
  });

  test("MPEG-TS is told apart from fMP4", () => {
    const ts = readFileSync(path.join(repoRoot, "tools", "internal", "sample", "data", "seg000.ts"));
    assert.equal(isMpegTs(ts), true);
    assert.equal(isMpegTs(init), false);
    assert.equal(isMpegTs(parts[0] ?? new Uint8Array(0)), false);
    assert.equal(isMpegTs(new Uint8Array([0x47, 1, 2])), true, "one short packet");
  });
});

describe("direct mode: the repository's CMAF sample", () => {
  // tools/internal/sample/data/cmaf.mp4, described by cmaf.json (what the demo and the
  // publish tool stream in parts).
  const dir = path.join(repoRoot, "tools", "internal", "sample", "data");
  const present = existsSync(path.join(dir, "cmaf.mp4")) && existsSync(path.join(dir, "cmaf.json"));

  test("init segment and chunks read as its manifest says", { skip: !present && "no CMAF sample" }, () => {
    const manifest = JSON.parse(readFileSync(path.join(dir, "cmaf.json"), "utf8")) as { duration: number; chunk_duration: number; gop: number };
    const { init, parts } = splitFmp4(new Uint8Array(readFileSync(path.join(dir, "cmaf.mp4"))));
    const info = parseInit(init);
    assert.ok(info);
    assert.match(info.mimeType, /^video\/mp4; codecs="avc1\.[0-9a-f]{6},mp4a\.40\.2"$/);
    assert.equal(parts.length, Math.round(manifest.duration / manifest.chunk_duration));
    const every = Math.round(manifest.gop / manifest.chunk_duration);
    let end: number | undefined;
    for (const [i, p] of parts.entries()) {
      const c = parseChunk(p, info);
      assert.ok(c, `chunk ${i}`);
      if (end !== undefined) assert.ok(Math.abs(c.start - end) < 1e-6, `chunk ${i} follows`);
      assert.ok(Math.abs(c.end - c.start - manifest.chunk_duration) < 0.02, `chunk ${i} lasts ${c.end - c.start}`);
      assert.equal(c.independent, i % every === 0, `chunk ${i} independent`);
      end = c.end;
    }
  });
});
