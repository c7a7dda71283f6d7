import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Hls, { type LevelLoadedData } from "hls.js";
import { createLoaders } from "../src/loader";
import { lowLatencyHlsConfig } from "../src/hls-config";
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
