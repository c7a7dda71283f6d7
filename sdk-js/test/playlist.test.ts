import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RelayClientEvents } from "../src/client";
import { Emitter } from "../src/emitter";
import { FragmentStore, feedStore } from "../src/store";

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

describe("LL-HLS playlist synthesis (parts)", () => {
  const INIT = new Uint8Array([0x66, 0x74, 0x79, 0x70]).buffer;

  function part(seq: number, index: number, opts: { epoch?: string; duration?: number; independent?: boolean; disc?: boolean; time?: number; bytes?: number } = {}) {
    const duration = opts.duration ?? 0.2;
    return {
      seq,
      index,
      epoch: opts.epoch ?? "e1",
      duration,
      independent: opts.independent ?? index === 0,
      disc: opts.disc ?? false,
      time: opts.time ?? T0 + seq * 1000 + index * 200,
      data: new Uint8Array(opts.bytes ?? 10).fill(seq * 10 + index).buffer,
      receivedAt: T0 + seq * 1000 + index * 200 + 50,
    };
  }

  /** Adds parts `from`..`to`-1 of fragment `seq`; closes it with F (as the client's fragment event) if `close`. */
  function fragmentInParts(store: FragmentStore, seq: number, from: number, to: number, close: { count: number } | null, epoch = "e1") {
    const parts = [];
    for (let i = from; i < to; i++) {
      const p = part(seq, i, { epoch });
      parts.push(p);
      store.addPart(p);
    }
    if (close) {
      const data = new Uint8Array(parts.reduce((n, p) => n + p.data.byteLength, 0));
      let at = 0;
      for (const p of parts) {
        data.set(new Uint8Array(p.data), at);
        at += p.data.byteLength;
      }
      return store.add({ seq, epoch, duration: close.count * 0.2, disc: false, time: T0 + seq * 1000, data: data.buffer, receivedAt: 0, parts, complete: from === 0 && to === close.count });
    }
    return undefined;
  }

  test("MPEG-TS streams keep the plain playlist, byte for byte", () => {
    const store = new FragmentStore({ initialFragments: 3, startOffset: -0.4 });
    store.add(frag(17));
    store.add(frag(18, { duration: 0.5, disc: true }));
    store.end();
    assert.equal(
      store.playlist(),
      "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXT-X-START:TIME-OFFSET=-0.4\n" +
        "#EXT-X-MEDIA-SEQUENCE:17\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:00:17.000Z\n#EXTINF:1,\nseq/17.ts\n" +
        "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:00:18.000Z\n#EXTINF:0.5,\nseq/18.ts\n#EXT-X-ENDLIST\n",
    );
    assert.equal(store.lowLatency, false);
  });

  test("parts make it LL-HLS: MAP, PART-INF, PART-HOLD-BACK, parts, the open fragment's parts and a preload hint", () => {
    const store = new FragmentStore({ initialFragments: 2 });
    store.addInit({ data: INIT });
    fragmentInParts(store, 17, 0, 5, { count: 5 });
    fragmentInParts(store, 18, 0, 2, null);
    assert.equal(store.lowLatency, true);
    assert.equal(store.partTarget, 0.2);
    assert.equal(store.size, 1, "the open fragment is not a segment yet");
    assert.equal(
      store.playlist(),
      [
        "#EXTM3U",
        "#EXT-X-VERSION:9",
        "#EXT-X-TARGETDURATION:1",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6",
        "#EXT-X-PART-INF:PART-TARGET=0.2",
        "#EXT-X-MEDIA-SEQUENCE:17",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        '#EXT-X-MAP:URI="init/1.mp4"',
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:00:17.000Z",
        '#EXT-X-PART:DURATION=0.2,URI="part/17.0.m4s",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.2,URI="part/17.1.m4s"',
        '#EXT-X-PART:DURATION=0.2,URI="part/17.2.m4s"',
        '#EXT-X-PART:DURATION=0.2,URI="part/17.3.m4s"',
        '#EXT-X-PART:DURATION=0.2,URI="part/17.4.m4s"',
        "#EXTINF:1,",
        "seq/17.m4s",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:00:18.000Z",
        '#EXT-X-PART:DURATION=0.2,URI="part/18.0.m4s",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.2,URI="part/18.1.m4s"',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part/18.2.m4s"',
        "",
      ].join("\n"),
    );
    // Fragment 18 closes: a full segment line, and the hint moves to the next fragment's first part.
    fragmentInParts(store, 18, 2, 5, { count: 5 });
    const p = parse(store.playlist());
    assert.deepEqual(p.segments.map((s) => s.uri), ["seq/17.m4s", "seq/18.m4s"]);
    assert.equal(p.tags["#EXT-X-PRELOAD-HINT"], 'TYPE=PART,URI="part/19.0.m4s"');
    assert.equal(p.lines.filter((l) => l.startsWith("#EXT-X-PART:")).length, 10);
  });

  test("parts are served from the fragment's bytes once it closed, from their own until then", () => {
    const store = new FragmentStore();
    store.addInit({ data: INIT });
    const closed = fragmentInParts(store, 3, 0, 3, { count: 3 });
    fragmentInParts(store, 4, 0, 1, null);
    assert.ok(closed);
    assert.deepEqual(closed.parts?.map((p) => [p.index, p.offset, p.length]), [[0, 0, 10], [1, 10, 10], [2, 20, 10]]);
    assert.equal(closed.data.byteLength, 30);
    assert.deepEqual([...(store.partData(3, 1) ?? [])], new Array(10).fill(31));
    assert.deepEqual([...(store.partData(4, 0) ?? [])], new Array(10).fill(40));
    assert.equal(store.partData(4, 1), undefined);
    assert.equal(store.partExpected(4, 1), true, "the open fragment's next part");
    assert.equal(store.partExpected(5, 0), true, "the next fragment's first part");
    assert.equal(store.partExpected(3, 7), false, "fragment 3 closed without it");
    assert.equal(new Uint8Array(store.initData(1) ?? new ArrayBuffer(0))[0], 0x66);
  });

  test("a viewer that joined mid-fragment lists that fragment by the parts it has", () => {
    const store = new FragmentStore({ initialFragments: 3 });
    store.addInit({ data: INIT });
    fragmentInParts(store, 17, 3, 5, { count: 5 });
    fragmentInParts(store, 18, 0, 1, null);
    const p = parse(store.playlist());
    assert.deepEqual(p.segments, [{ uri: "seq/17.m4s", extinf: 0.4, pdt: new Date(T0 + 17_600).toISOString(), disc: false }]);
    assert.deepEqual(
      p.lines.filter((l) => l.startsWith("#EXT-X-PART:")),
      ['#EXT-X-PART:DURATION=0.2,URI="part/17.3.m4s"', '#EXT-X-PART:DURATION=0.2,URI="part/17.4.m4s"', '#EXT-X-PART:DURATION=0.2,URI="part/18.0.m4s",INDEPENDENT=YES'],
    );
    assert.equal(store.get(17)?.data.byteLength, 20);
  });

  test("parts are listed for the fragments within three target durations of the live edge", () => {
    const store = new FragmentStore({ initialFragments: 10 });
    store.addInit({ data: INIT });
    for (let s = 0; s < 6; s++) fragmentInParts(store, s, 0, 5, { count: 5 });
    fragmentInParts(store, 6, 0, 2, null);
    const lines = parse(store.playlist()).lines;
    const partsOf = (msn: number) => lines.filter((l) => l.includes(`URI="part/${msn}.`) && l.startsWith("#EXT-X-PART:")).length;
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(partsOf), [0, 0, 0, 5, 5, 5, 2]);
  });

  test("the init segment: the same bytes again change nothing; new ones get a new EXT-X-MAP where they apply", () => {
    const store = new FragmentStore({ initialFragments: 10 });
    store.addInit({ data: INIT });
    fragmentInParts(store, 0, 0, 1, { count: 1 });
    store.addInit({ data: INIT.slice(0) }); // a reconnect: sent again
    fragmentInParts(store, 1, 0, 1, { count: 1 });
    store.addInit({ data: new Uint8Array([1, 2]).buffer }); // an encoder restart
    store.addPart(part(0, 0, { epoch: "e2", disc: true }));
    const lines = parse(store.playlist()).lines;
    assert.deepEqual(lines.filter((l) => l.startsWith("#EXT-X-MAP") || l === "#EXT-X-DISCONTINUITY" || l.startsWith("#EXT-X-PART:")), [
      '#EXT-X-MAP:URI="init/1.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="part/0.0.m4s",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.2,URI="part/1.0.m4s",INDEPENDENT=YES',
      "#EXT-X-DISCONTINUITY",
      '#EXT-X-MAP:URI="init/2.mp4"',
      '#EXT-X-PART:DURATION=0.2,URI="part/2.0.m4s",INDEPENDENT=YES',
    ]);
    assert.equal(store.initData(2)?.byteLength, 2);
  });

  test("init segments no fragment refers to any more leave memory", () => {
    const store = new FragmentStore({ window: 2 });
    store.addInit({ data: INIT });
    fragmentInParts(store, 0, 0, 1, { count: 1 });
    store.addInit({ data: new Uint8Array([1]).buffer });
    for (let s = 1; s < 4; s++) fragmentInParts(store, s, 0, 1, { count: 1 });
    assert.equal(store.initData(1), undefined);
    assert.ok(store.initData(2));
  });

  test("a fragment the relay skipped the rest of is listed with its parts; a gap is a discontinuity", () => {
    const store = new FragmentStore({ initialFragments: 10 });
    store.addInit({ data: INIT });
    fragmentInParts(store, 1, 0, 5, { count: 5 });
    fragmentInParts(store, 2, 0, 2, null);
    store.addPart(part(5, 0, { disc: true }));
    const p = parse(store.playlist());
    assert.deepEqual(p.segments.map((s) => [s.uri, s.extinf, s.disc]), [
      ["seq/1.m4s", 1, false],
      ["seq/2.m4s", 0.4, false],
    ]);
    assert.ok(p.lines.includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part/3.1.m4s"'));
    assert.deepEqual(p.lines.slice(-4), ["#EXT-X-DISCONTINUITY", `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 5000).toISOString()}`, '#EXT-X-PART:DURATION=0.2,URI="part/3.0.m4s",INDEPENDENT=YES', '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part/3.1.m4s"']);
  });

  test("a fragment delivered only at its closing F (no part events) is listed with its parts", () => {
    const store = new FragmentStore();
    store.addInit({ data: INIT });
    const parts = [part(7, 0), part(7, 1)];
    const stored = store.add({ seq: 7, epoch: "e1", duration: 0.4, disc: false, data: new ArrayBuffer(20), receivedAt: 0, parts, complete: true });
    assert.deepEqual([stored?.msn, stored?.duration, stored?.parts?.length, stored?.init], [7, 0.4, 2, 1]);
    assert.equal(store.add({ seq: 7, epoch: "e1", duration: 0.4, disc: false, data: new ArrayBuffer(20), receivedAt: 0, parts, complete: true }), undefined, "held once");
  });

  test("blocking reload readiness: a part of msn, counted as listed; past the last part is the next fragment's first", () => {
    const store = new FragmentStore();
    store.addInit({ data: INIT });
    assert.equal(store.reloadReady(0, 0), false, "nothing closed yet");
    fragmentInParts(store, 10, 0, 3, { count: 3 });
    assert.equal(store.reloadReady(10), true);
    assert.equal(store.reloadReady(10, 2), true);
    assert.equal(store.reloadReady(10, 3), false, "10 has three parts: part 3 is 11's first");
    assert.equal(store.reloadReady(11), false);
    fragmentInParts(store, 11, 0, 1, null);
    assert.equal(store.reloadReady(10, 3), true);
    assert.equal(store.reloadReady(11, 0), true);
    assert.equal(store.reloadReady(11, 1), false);
    assert.equal(store.reloadReady(11), false, "11 is not closed");
    const joined = new FragmentStore();
    fragmentInParts(joined, 4, 3, 5, { count: 5 });
    fragmentInParts(joined, 5, 0, 1, null);
    assert.equal(joined.reloadReady(4, 1), true, "fragment 4 lists two parts, 0 and 1 in the playlist");
    assert.equal(joined.reloadReady(4, 2), true, "and 5 has begun");
    store.end();
    assert.equal(store.reloadReady(99, 9), true);
  });

  test("PART-HOLD-BACK follows partHoldBackParts, at least 2 part targets", () => {
    for (const [opt, want] of [[2, "0.5"], [4, "1"], [1, "0.75"], [undefined, "0.75"]] as const) {
      const store = new FragmentStore({ partHoldBackParts: opt });
      store.addPart(part(0, 0, { duration: 0.25 }));
      store.add({ seq: 0, epoch: "e1", duration: 0.25, disc: false, data: new ArrayBuffer(10), receivedAt: 0, parts: [part(0, 0, { duration: 0.25 })], complete: true });
      assert.equal(parse(store.playlist()).tags["#EXT-X-SERVER-CONTROL"], `CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${want}`, String(opt));
    }
  });

  test("end(): the open fragment becomes a segment, no preload hint, ENDLIST", () => {
    const store = new FragmentStore();
    fragmentInParts(store, 0, 0, 5, { count: 5 });
    fragmentInParts(store, 1, 0, 2, null);
    const order: string[] = [];
    store.waitUntil(() => false, Infinity, () => order.push("woken"));
    store.end();
    assert.deepEqual(order, ["woken"]);
    const p = parse(store.playlist());
    assert.deepEqual(p.segments.map((s) => [s.uri, s.extinf]), [["seq/0.ts", 1], ["seq/1.ts", 0.4]]);
    assert.equal(p.tags["#EXT-X-PRELOAD-HINT"], undefined);
    assert.equal(p.lines[p.lines.length - 1], "#EXT-X-ENDLIST");
  });

  test("feedStore passes a client's init segments, parts and fragments to the store", () => {
    class FakeClient extends Emitter<RelayClientEvents> {
      fire<K extends keyof RelayClientEvents>(name: K, ...args: RelayClientEvents[K]): void {
        this.emit(name, ...args);
      }
    }
    const client = new FakeClient();
    const store = new FragmentStore();
    const stop = feedStore(client, store);
    client.fire("init", { epoch: "e1", data: INIT, receivedAt: 0 });
    const p = part(3, 0);
    client.fire("part", p);
    assert.equal(store.partData(3, 0)?.byteLength, 10);
    client.fire("fragment", { seq: 3, epoch: "e1", duration: 0.2, disc: false, data: p.data, receivedAt: 0, parts: [p], complete: true });
    assert.equal(store.get(3)?.init, 1);
    stop();
    client.fire("part", part(4, 0));
    assert.equal(store.partData(4, 0), undefined, "stopped");
  });
});
