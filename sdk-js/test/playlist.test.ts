import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FragmentStore } from "../src/store";

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function frag(seq: number, opts: { epoch?: string; duration?: number; disc?: boolean; time?: number; bytes?: number } = {}) {
  const duration = opts.duration ?? 1;
  return {
    seq,
    epoch: opts.epoch ?? "e1",
    duration,
    disc: opts.disc ?? false,
    time: opts.time ?? T0 + seq * 1000,
    data: new Uint8Array(opts.bytes ?? 188).fill(seq & 0xff).buffer,
    receivedAt: T0 + seq * 1000 + 1000,
  };
}

/** The tags of a playlist, and its segments as {uri, extinf, pdt, disc}. */
function parse(text: string) {
  const lines = text.trim().split("\n");
  const tags: Record<string, string> = {};
  const segments: Array<{ uri: string; extinf: number; pdt: string; disc: boolean }> = [];
  let pending: { extinf: number; pdt: string; disc: boolean } = { extinf: NaN, pdt: "", disc: false };
  for (const line of lines) {
    if (line.startsWith("#EXTINF:")) pending.extinf = Number(line.slice(8, line.indexOf(",")));
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) pending.pdt = line.slice(25);
    else if (line === "#EXT-X-DISCONTINUITY") pending.disc = true;
    else if (line.startsWith("#")) {
      const i = line.indexOf(":");
      tags[i < 0 ? line : line.slice(0, i)] = i < 0 ? "" : line.slice(i + 1);
    } else {
      segments.push({ uri: line, ...pending });
      pending = { extinf: NaN, pdt: "", disc: false };
    }
  }
  return { lines, tags, segments };
}

describe("playlist synthesis", () => {
  test("header, media sequence = fragment seq, program date-time from the publish time", () => {
    const store = new FragmentStore({ initialFragments: 3 });
    for (let s = 17; s < 20; s++) store.add(frag(s));
    const p = parse(store.playlist());
    assert.equal(p.lines[0], "#EXTM3U");
    assert.equal(p.tags["#EXT-X-TARGETDURATION"], "1");
    assert.equal(p.tags["#EXT-X-SERVER-CONTROL"], "CAN-BLOCK-RELOAD=YES");
    assert.equal(p.tags["#EXT-X-MEDIA-SEQUENCE"], "17");
    assert.equal(p.tags["#EXT-X-DISCONTINUITY-SEQUENCE"], "0");
    assert.equal(p.tags["#EXT-X-ENDLIST"], undefined);
    assert.deepEqual(
      p.segments.map((s) => s.uri),
      ["seq/17.ts", "seq/18.ts", "seq/19.ts"],
    );
    assert.equal(p.segments[0]?.pdt, new Date(T0 + 17_000).toISOString());
    assert.equal(p.segments[2]?.pdt, new Date(T0 + 19_000).toISOString());
    assert.equal(store.get(18)?.data.byteLength, 188);
  });

  test("TARGETDURATION comes from the real durations", () => {
    const store = new FragmentStore();
    store.add(frag(0, { duration: 2.002 }));
    store.add(frag(1, { duration: 5.6 }));
    store.add(frag(2, { duration: 2 }));
    const p = parse(store.playlist());
    assert.equal(p.tags["#EXT-X-TARGETDURATION"], "6");
    assert.deepEqual(p.segments.map((s) => s.extinf), [5.6, 2]);
    const half = new FragmentStore();
    half.add(frag(0, { duration: 0.5 }));
    assert.equal(parse(half.playlist()).tags["#EXT-X-TARGETDURATION"], "1");
  });

  test("the first playlist lists only the newest fragments of a backlog", () => {
    const store = new FragmentStore({ window: 10, initialFragments: 2 });
    for (let s = 0; s < 8; s++) store.add(frag(s));
    assert.deepEqual(parse(store.playlist()).segments.map((s) => s.uri), ["seq/6.ts", "seq/7.ts"]);
    store.add(frag(8));
    const p = parse(store.playlist());
    assert.equal(p.tags["#EXT-X-MEDIA-SEQUENCE"], "6");
    assert.deepEqual(p.segments.map((s) => s.uri), ["seq/6.ts", "seq/7.ts", "seq/8.ts"]);
  });

  test("a bounded window: old fragments leave memory and the playlist", () => {
    const store = new FragmentStore({ window: 4, initialFragments: 4 });
    for (let s = 0; s < 10; s++) store.add(frag(s));
    assert.equal(store.size, 4);
    assert.equal(store.get(5), undefined);
    assert.ok(store.get(6));
    const p = parse(store.playlist());
    assert.equal(p.tags["#EXT-X-MEDIA-SEQUENCE"], "6");
    assert.equal(p.segments.length, 4);
  });

  test("maxBytes bounds memory, keeping the newest fragment", () => {
    const store = new FragmentStore({ window: 100, maxBytes: 1000 });
    for (let s = 0; s < 10; s++) store.add(frag(s, { bytes: 300 }));
    assert.equal(store.size, 3);
    store.add(frag(10, { bytes: 5000 }));
    assert.equal(store.size, 1);
    assert.equal(store.newest, 10);
  });

  test("discontinuities: tags and EXT-X-DISCONTINUITY-SEQUENCE as the window slides", () => {
    const store = new FragmentStore({ window: 4, initialFragments: 4 });
    store.add(frag(0));
    store.add(frag(1));
    store.add(frag(2, { disc: true })); // marked by the relay
    store.add(frag(3));
    let p = parse(store.playlist());
    assert.equal(p.tags["#EXT-X-DISCONTINUITY-SEQUENCE"], "0");
    assert.deepEqual(p.segments.map((s) => s.disc), [false, false, true, false]);
    store.add(frag(4));
    store.add(frag(5));
    store.add(frag(6)); // 0..2 slid out: the discontinuity before 2 is now counted in the sequence
    p = parse(store.playlist());
    assert.equal(p.tags["#EXT-X-MEDIA-SEQUENCE"], "3");
    assert.equal(p.tags["#EXT-X-DISCONTINUITY-SEQUENCE"], "1");
    assert.deepEqual(p.segments.map((s) => s.disc), [false, false, false, false]);
    store.add(frag(9)); // a gap: a discontinuity, media sequence stays contiguous
    p = parse(store.playlist());
    assert.equal(p.tags["#EXT-X-MEDIA-SEQUENCE"], "4");
    assert.deepEqual(p.segments.map((s) => s.uri), ["seq/4.ts", "seq/5.ts", "seq/6.ts", "seq/7.ts"]);
    assert.deepEqual(p.segments.map((s) => s.disc), [false, false, false, true]);
    assert.equal(store.get(7)?.data.byteLength, 188);
    assert.equal(new Uint8Array(store.get(7)?.data ?? new ArrayBuffer(1))[0], 9, "msn 7 holds fragment seq 9");
  });

  test("a restarted stream (new epoch from seq 0) continues the media sequence after a discontinuity", () => {
    const store = new FragmentStore({ initialFragments: 10 });
    store.add(frag(41));
    store.add(frag(42));
    store.add(frag(0, { epoch: "e2", disc: true }));
    store.add(frag(1, { epoch: "e2" }));
    const p = parse(store.playlist());
    assert.equal(p.tags["#EXT-X-MEDIA-SEQUENCE"], "41");
    assert.deepEqual(p.segments.map((s) => s.uri), ["seq/41.ts", "seq/42.ts", "seq/43.ts", "seq/44.ts"]);
    assert.deepEqual(p.segments.map((s) => s.disc), [false, false, true, false]);
    // A fragment delivered twice is held once.
    assert.equal(store.add(frag(1, { epoch: "e2" })), undefined);
    assert.equal(store.size, 4);
  });

  test("without a publish time, program date-time follows the previous fragment", () => {
    const store = new FragmentStore({ initialFragments: 3 });
    const a = frag(0);
    store.add({ ...a, time: undefined, receivedAt: T0 + 5000 });
    store.add({ ...frag(1), time: undefined, receivedAt: T0 + 5001 });
    const p = parse(store.playlist());
    assert.deepEqual(p.segments.map((s) => s.pdt), [new Date(T0 + 4000).toISOString(), new Date(T0 + 5000).toISOString()]);
  });

  test("ENDLIST once the stream ended, and nothing is added after", () => {
    const store = new FragmentStore();
    store.add(frag(0));
    let ended = 0;
    store.on("ended", () => ended++);
    store.end();
    store.end();
    assert.equal(ended, 1);
    assert.equal(store.add(frag(1)), undefined);
    const p = parse(store.playlist());
    assert.equal(p.lines[p.lines.length - 1], "#EXT-X-ENDLIST");
    assert.equal(p.segments.length, 1);
  });

  test("EXT-X-START when a start offset is set", () => {
    const store = new FragmentStore({ startOffset: -0.4 });
    store.add(frag(0));
    assert.equal(parse(store.playlist()).tags["#EXT-X-START"], "TIME-OFFSET=-0.4");
  });

  test("waitFor answers when the fragment lands, on end, or on time-out", async () => {
    const store = new FragmentStore();
    const order: string[] = [];
    store.waitFor(-1, Infinity, () => order.push("any"));
    store.waitFor(1, Infinity, () => order.push("msn 1"));
    const cancel = store.waitFor(1, Infinity, () => order.push("cancelled"));
    store.waitFor(5, 30, () => order.push("timeout"));
    cancel();
    store.add(frag(0));
    assert.deepEqual(order, ["any"]);
    store.add(frag(1));
    assert.deepEqual(order, ["any", "msn 1"]);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(order, ["any", "msn 1", "timeout"]);
    store.waitFor(9, Infinity, () => order.push("end"));
    store.end();
    assert.deepEqual(order, ["any", "msn 1", "timeout", "end"]);
  });
});
