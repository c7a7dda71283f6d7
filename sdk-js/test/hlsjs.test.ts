import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Hls, { type LevelLoadedData } from "hls.js";
import type { Part } from "../src/client";
import { createLoaders } from "../src/loader";
import { lowLatencyHlsConfig, lowLatencyPartsHlsConfig } from "../src/hls-config";
import { FragmentStore } from "../src/store";

// hls.js itself (the devDependency, 1.7.4) loading the synthesised playlist through the
// loaders. Without a media element it loads playlists but no fragments. hls.js refers to
// the browser's globals `self` and `location`, which Node lacks.
const g = globalThis as { self?: unknown; location?: { href: string } };
g.self ??= globalThis;
g.location ??= { href: "http://localhost/" };

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function add(store: FragmentStore, seq: number, opts: { disc?: boolean; epoch?: string } = {}): void {
  store.add({ seq, epoch: opts.epoch ?? "e", duration: 1, disc: opts.disc ?? false, time: T0 + seq * 1000, data: new ArrayBuffer(188), receivedAt: Date.now() });
}

function levelLoads(hls: Hls): { loads: LevelLoadedData[]; next: () => Promise<LevelLoadedData> } {
  const loads: LevelLoadedData[] = [];
  const waiters: Array<(d: LevelLoadedData) => void> = [];
  hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => {
    loads.push(data);
    waiters.shift()?.(data);
  });
  return {
    loads,
    next: () =>
      new Promise<LevelLoadedData>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no LEVEL_LOADED within 5 s")), 5000);
        waiters.push((d) => {
          clearTimeout(t);
          resolve(d);
        });
      }),
  };
}

describe("hls.js with the relay loaders", { timeout: 20_000 }, () => {
  test("parses the live playlist: sequence, discontinuities, program date-time, blocking reload", async () => {
    const store = new FragmentStore({ initialFragments: 2 });
    const hls = new Hls({ ...lowLatencyHlsConfig(1), ...createLoaders(store) });
    const errors: string[] = [];
    hls.on(Hls.Events.ERROR, (_e, d) => errors.push(String(d.details)));
    const { next } = levelLoads(hls);
    try {
      for (let s = 10; s < 15; s++) add(store, s);
      const first = next();
      hls.loadSource(store.playlistUrl);
      const d1 = (await first).details;
      assert.equal(d1.live, true);
      assert.equal(d1.canBlockReload, true);
      assert.equal(d1.targetduration, 1);
      assert.deepEqual(d1.fragments.map((f) => f.sn), [13, 14], "starts near live: the newest two of the backlog");
      assert.equal(d1.fragments[0]?.programDateTime, T0 + 13_000);
      assert.equal(d1.fragments[1]?.url, "http://hlsrelay.invalid/seq/14.ts");

      // hls.js asks for msn 15 at once and the loader holds it until 15 lands.
      const second = next();
      await new Promise((r) => setTimeout(r, 150));
      const asked = performance.now();
      add(store, 15, { disc: true });
      const d2 = (await second).details;
      assert.ok(performance.now() - asked < 1000, "answered as the fragment landed");
      assert.deepEqual(d2.fragments.map((f) => f.sn), [13, 14, 15]);
      assert.deepEqual(d2.fragments.map((f) => f.cc), [0, 0, 1], "discontinuity before 15");

      const third = next();
      add(store, 16);
      const d3 = (await third).details;
      assert.equal(d3.live, true);
      assert.deepEqual(d3.fragments.map((f) => f.sn), [13, 14, 15, 16]);

      // The request for 17 waits; the end of the stream answers it with ENDLIST.
      const fourth = next();
      await new Promise((r) => setTimeout(r, 50));
      store.end();
      const d4 = (await fourth).details;
      assert.equal(d4.live, false, "ENDLIST");
      assert.deepEqual(d4.fragments.map((f) => f.sn), [13, 14, 15, 16]);
      assert.deepEqual(errors, []);
    } finally {
      hls.destroy();
      store.clear();
    }
  });
});

describe("hls.js with the relay loaders, LL-HLS (parts)", { timeout: 20_000 }, () => {
  function addPart(store: FragmentStore, seq: number, index: number): Part {
    const p: Part = { seq, index, epoch: "e", duration: 0.2, independent: index === 0, disc: false, time: T0 + seq * 1000 + index * 200, data: new ArrayBuffer(16), receivedAt: Date.now() };
    store.addPart(p);
    return p;
  }

  function addFragment(store: FragmentStore, seq: number, from = 0): void {
    const parts: Part[] = [];
    for (let i = from; i < 5; i++) parts.push(addPart(store, seq, i));
    store.add({ seq, epoch: "e", duration: 1, disc: false, time: T0 + seq * 1000, data: new ArrayBuffer(16 * parts.length), receivedAt: Date.now(), parts, complete: from === 0 });
  }

  test("parses parts, the open fragment and the init segment; blocking reloads ask for the next part, answered as it lands", async () => {
    const store = new FragmentStore({ initialFragments: 2 });
    const loaders = createLoaders(store);
    const asked: string[] = [];
    class RecordingPlaylistLoader extends loaders.pLoader {
      override load(...args: Parameters<InstanceType<typeof loaders.pLoader>["load"]>): void {
        asked.push(args[0].url.replace(store.playlistUrl, ""));
        super.load(...args);
      }
    }
    const hls = new Hls({ ...lowLatencyPartsHlsConfig(0.2, 1), ...loaders, pLoader: RecordingPlaylistLoader });
    const errors: string[] = [];
    hls.on(Hls.Events.ERROR, (_e, d) => errors.push(String(d.details)));
    const { next } = levelLoads(hls);
    try {
      store.addInit({ data: new Uint8Array([0x66, 0x74, 0x79, 0x70]).buffer });
      addFragment(store, 10, 2); // joined mid-fragment
      addFragment(store, 11);
      addPart(store, 12, 0);
      addPart(store, 12, 1);
      const first = next();
      hls.loadSource(store.playlistUrl);
      const d1 = (await first).details;
      assert.equal(d1.live, true);
      assert.equal(d1.canBlockReload, true);
      assert.equal(d1.partTarget, 0.2);
      assert.equal(d1.partHoldBack, 0.6);
      assert.deepEqual(d1.fragments.map((f) => [f.sn, f.duration]), [[10, 0.6], [11, 1]], "the fragment joined late lasts what its parts do");
      assert.equal(d1.fragments[0]?.initSegment?.url, "http://hlsrelay.invalid/init/1.mp4");
      assert.equal(d1.fragments[1]?.programDateTime, T0 + 11_000);
      assert.equal(d1.fragmentHint?.sn, 12, "the open fragment is hls.js's fragment hint");
      assert.equal(d1.fragmentHint?.programDateTime, T0 + 12_000);
      assert.deepEqual(
        d1.partList?.map((p) => [p.fragment.sn, p.index, p.independent, p.url.replace("http://hlsrelay.invalid/", "")]),
        [
          [10, 0, false, "part/10.2.m4s"],
          [10, 1, false, "part/10.3.m4s"],
          [10, 2, false, "part/10.4.m4s"],
          [11, 0, true, "part/11.0.m4s"],
          [11, 1, false, "part/11.1.m4s"],
          [11, 2, false, "part/11.2.m4s"],
          [11, 3, false, "part/11.3.m4s"],
          [11, 4, false, "part/11.4.m4s"],
          [12, 0, true, "part/12.0.m4s"],
          [12, 1, false, "part/12.1.m4s"],
        ],
      );
      assert.equal(d1.preloadHint?.URI, "part/12.2.m4s");

      // hls.js asks for part 2 of 12 at once; the loader holds it until the part lands.
      const second = next();
      await new Promise((r) => setTimeout(r, 100));
      const landed = performance.now();
      addPart(store, 12, 2);
      const d2 = (await second).details;
      assert.ok(performance.now() - landed < 500, "answered as the part landed");
      assert.equal(asked[1], "?_HLS_msn=12&_HLS_part=2");
      assert.deepEqual([d2.lastPartSn, d2.lastPartIndex], [12, 2]);

      // The last parts and the closing F: hls.js then asks for 13's first part.
      const third = next();
      addPart(store, 12, 3);
      const d3 = (await third).details;
      assert.deepEqual([d3.lastPartSn, d3.lastPartIndex], [12, 3]);
      const fourth = next();
      addPart(store, 12, 4);
      const d4 = (await fourth).details;
      assert.deepEqual([d4.lastPartSn, d4.lastPartIndex, d4.endSN], [12, 4, 11]);
      const fifth = next();
      // The closing F of 12 (the client's fragment event) does not answer a request for part 5.
      const parts12 = [0, 1, 2, 3, 4].map((index): Part => ({ seq: 12, index, epoch: "e", duration: 0.2, independent: index === 0, disc: false, data: new ArrayBuffer(16), receivedAt: 0 }));
      store.add({ seq: 12, epoch: "e", duration: 1, disc: false, data: new ArrayBuffer(80), receivedAt: Date.now(), parts: parts12, complete: true });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(asked[4], "?_HLS_msn=12&_HLS_part=5");
      addPart(store, 13, 0);
      const d5 = (await fifth).details;
      assert.deepEqual(d5.fragments.map((f) => f.sn), [10, 11, 12]);
      assert.equal(d5.fragmentHint?.sn, 13);
      assert.deepEqual([d5.lastPartSn, d5.lastPartIndex], [13, 0]);
      const sixth = next();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(asked[5], "?_HLS_msn=13&_HLS_part=1");
      store.end();
      const d6 = (await sixth).details;
      assert.equal(d6.live, false, "ENDLIST");
      assert.deepEqual(d6.fragments.map((f) => f.sn), [10, 11, 12, 13]);
      assert.deepEqual(errors, []);
    } finally {
      hls.destroy();
      store.clear();
    }
  });
});
