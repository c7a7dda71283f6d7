import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FragmentLoaderContext, HlsConfig, LoaderCallbacks, LoaderConfiguration, LoaderContext, LoaderStats, PlaylistLoaderContext } from "hls.js";
import type { Part } from "../src/client";
import { createLoaders } from "../src/loader";
import { FragmentStore } from "../src/store";

const hlsConfig = {} as HlsConfig;

function loaderConfig(maxTimeToFirstByteMs = 10_000): LoaderConfiguration {
  return {
    loadPolicy: { maxTimeToFirstByteMs, maxLoadTimeMs: 20_000, timeoutRetry: null, errorRetry: null },
    maxRetry: 0,
    timeout: maxTimeToFirstByteMs,
    retryDelay: 0,
    maxRetryDelay: 0,
  };
}

function playlistContext(url: string, type = "level"): PlaylistLoaderContext {
  return { url, type, responseType: "text", level: 0, id: 0, deliveryDirectives: null, levelOrTrack: null } as unknown as PlaylistLoaderContext;
}

function fragmentContext(url: string, sn: number): FragmentLoaderContext {
  return { url, type: "media-fragment", responseType: "arraybuffer", frag: { sn }, part: null } as unknown as FragmentLoaderContext;
}

interface Outcome<T extends LoaderContext> {
  kind: "success" | "error" | "timeout" | "abort";
  data?: string | ArrayBuffer;
  code?: number;
  stats: LoaderStats;
  context: T;
  progress: number;
}

/** Callbacks that record what the loader calls; `settled` resolves on the first terminal callback. */
function recorder<T extends LoaderContext>(withProgress = true) {
  const calls: Array<Outcome<T>> = [];
  let progress = 0;
  let resolve: (o: Outcome<T>) => void = () => undefined;
  const settled = new Promise<Outcome<T>>((r) => (resolve = r));
  const record = (o: Outcome<T>): void => {
    calls.push(o);
    resolve(o);
  };
  const callbacks: LoaderCallbacks<T> = {
    onSuccess: (response, stats, context) => record({ kind: "success", data: response.data as string | ArrayBuffer, code: response.code, stats, context, progress }),
    onError: (error, context, _details, stats) => record({ kind: "error", code: error.code, stats, context, progress }),
    onTimeout: (stats, context) => record({ kind: "timeout", stats, context, progress }),
    onAbort: (stats, context) => record({ kind: "abort", stats, context, progress }),
  };
  if (withProgress) callbacks.onProgress = () => void progress++;
  return { calls, settled, callbacks };
}

function add(store: FragmentStore, seq: number, bytes = 376): void {
  store.add({ seq, epoch: "e", duration: 1, disc: false, time: Date.now(), data: new Uint8Array(bytes).fill(seq + 1).buffer, receivedAt: Date.now() });
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe("hls.js loader contract", () => {
  test("stats exist from construction, shaped as hls.js's LoadStats", () => {
    const { pLoader, fLoader } = createLoaders(new FragmentStore());
    for (const L of [pLoader, fLoader]) {
      const loader = new L(hlsConfig);
      assert.deepEqual(loader.stats, {
        aborted: false,
        loaded: 0,
        retry: 0,
        total: 0,
        chunkCount: 0,
        bwEstimate: 0,
        loading: { start: 0, first: 0, end: 0 },
        parsing: { start: 0, end: 0 },
        buffering: { start: 0, first: 0, end: 0 },
      });
      assert.equal(loader.context, null);
    }
  });

  test("a playlist is answered asynchronously, with stats stamped at answer time", async () => {
    const store = new FragmentStore();
    add(store, 0);
    const { pLoader } = createLoaders(store);
    const loader = new pLoader(hlsConfig);
    const r = recorder<PlaylistLoaderContext>();
    const ctx = playlistContext(store.playlistUrl, "manifest");
    loader.load(ctx, loaderConfig(), r.callbacks);
    assert.equal(r.calls.length, 0, "no callback inside load()");
    assert.equal(loader.context, ctx);
    const o = await r.settled;
    assert.equal(o.kind, "success");
    assert.equal(o.code, 200);
    assert.equal(typeof o.data, "string");
    assert.match(String(o.data), /^#EXTM3U\n/);
    assert.equal(o.context, ctx);
    assert.equal(o.progress, 1, "onProgress before onSuccess");
    const s = o.stats;
    assert.equal(s, loader.stats);
    assert.ok(s.loading.start > 0 && s.loading.first >= s.loading.start && s.loading.end >= s.loading.first);
    assert.equal(s.loaded, String(o.data).length);
    assert.equal(s.total, s.loaded);
    assert.ok(s.bwEstimate > 0 && Number.isFinite(s.bwEstimate));
  });

  test("onProgress is optional", async () => {
    const store = new FragmentStore();
    add(store, 0);
    const { pLoader, fLoader } = createLoaders(store);
    const p = recorder<PlaylistLoaderContext>(false);
    new pLoader(hlsConfig).load(playlistContext(store.playlistUrl), loaderConfig(), p.callbacks);
    assert.equal((await p.settled).kind, "success");
    const f = recorder<FragmentLoaderContext>(false);
    new fLoader(hlsConfig).load(fragmentContext("http://hlsrelay.invalid/seq/0.ts", 0), loaderConfig(), f.callbacks);
    assert.equal((await f.settled).kind, "success");
  });

  test("a loader can be used once", () => {
    const store = new FragmentStore();
    add(store, 0);
    const loader = new (createLoaders(store).pLoader)(hlsConfig);
    loader.load(playlistContext(store.playlistUrl), loaderConfig(), recorder<PlaylistLoaderContext>().callbacks);
    assert.throws(() => loader.load(playlistContext(store.playlistUrl), loaderConfig(), recorder<PlaylistLoaderContext>().callbacks), /only be used once/);
  });

  test("context types are compared as strings; other playlists are refused", async () => {
    const store = new FragmentStore();
    add(store, 0);
    const { pLoader } = createLoaders(store);
    const r = recorder<PlaylistLoaderContext>();
    new pLoader(hlsConfig).load(playlistContext(store.playlistUrl, "audioTrack"), loaderConfig(), r.callbacks);
    const o = await r.settled;
    assert.equal(o.kind, "error");
    assert.equal(o.code, 404);
  });

  test("the first playlist waits for the first fragment", async () => {
    const store = new FragmentStore();
    const r = recorder<PlaylistLoaderContext>();
    new (createLoaders(store).pLoader)(hlsConfig).load(playlistContext(store.playlistUrl, "manifest"), loaderConfig(50), r.callbacks);
    await tick(80);
    assert.equal(r.calls.length, 0, "no answer (and no time-out) before a fragment exists");
    add(store, 5);
    const o = await r.settled;
    assert.equal(o.kind, "success");
    assert.match(String(o.data), /#EXT-X-MEDIA-SEQUENCE:5\n/);
  });

  test("a blocking reload (_HLS_msn) is answered the moment the fragment lands", async () => {
    const store = new FragmentStore({ initialFragments: 1 });
    add(store, 0);
    store.playlist();
    const r = recorder<PlaylistLoaderContext>();
    new (createLoaders(store).pLoader)(hlsConfig).load(playlistContext(`${store.playlistUrl}?_HLS_msn=1`), loaderConfig(), r.callbacks);
    await tick(20);
    assert.equal(r.calls.length, 0, "held while fragment 1 is missing");
    const landed = performance.now();
    add(store, 1);
    const o = await r.settled;
    assert.equal(o.kind, "success");
    assert.match(String(o.data), /seq\/1\.ts\n/);
    assert.ok(o.stats.loading.first >= landed, "loading.first is stamped when answered, not when requested");
    assert.ok(o.stats.loading.first - o.stats.loading.start >= 15);
  });

  test("a blocking reload for a fragment already held is answered at once", async () => {
    const store = new FragmentStore();
    add(store, 0);
    add(store, 1);
    const r = recorder<PlaylistLoaderContext>();
    new (createLoaders(store).pLoader)(hlsConfig).load(playlistContext(`${store.playlistUrl}?_HLS_msn=1&_HLS_part=0`), loaderConfig(), r.callbacks);
    assert.equal((await r.settled).kind, "success");
  });

  test("a blocking reload gives up with the current playlist before hls.js would time out", async () => {
    const store = new FragmentStore();
    add(store, 0);
    const r = recorder<PlaylistLoaderContext>();
    const t0 = Date.now();
    new (createLoaders(store).pLoader)(hlsConfig).load(playlistContext(`${store.playlistUrl}?_HLS_msn=1`), loaderConfig(100), r.callbacks);
    const o = await r.settled;
    assert.equal(o.kind, "success");
    assert.ok(Date.now() - t0 >= 85, "waited");
    assert.doesNotMatch(String(o.data), /seq\/1\.ts/);
  });

  test("ENDLIST answers a waiting blocking reload", async () => {
    const store = new FragmentStore();
    add(store, 0);
    const r = recorder<PlaylistLoaderContext>();
    new (createLoaders(store).pLoader)(hlsConfig).load(playlistContext(`${store.playlistUrl}?_HLS_msn=1`), loaderConfig(), r.callbacks);
    await tick(10);
    store.end();
    const o = await r.settled;
    assert.match(String(o.data), /#EXT-X-ENDLIST\n$/);
  });

  test("abort() calls onAbort, and no other callback follows", async () => {
    const store = new FragmentStore();
    add(store, 0);
    const loader = new (createLoaders(store).pLoader)(hlsConfig);
    const r = recorder<PlaylistLoaderContext>();
    const ctx = playlistContext(`${store.playlistUrl}?_HLS_msn=1`);
    loader.load(ctx, loaderConfig(), r.callbacks);
    loader.abort();
    assert.equal(r.calls.length, 1);
    assert.equal(r.calls[0]?.kind, "abort");
    assert.equal(r.calls[0]?.context, ctx);
    assert.equal(loader.stats.aborted, true);
    add(store, 1);
    await tick(10);
    assert.equal(r.calls.length, 1, "nothing after abort");
    // An answer already queued is dropped too.
    const f = new (createLoaders(store).fLoader)(hlsConfig);
    const rf = recorder<FragmentLoaderContext>();
    f.load(fragmentContext("http://hlsrelay.invalid/seq/1.ts", 1), loaderConfig(), rf.callbacks);
    f.abort();
    await tick(10);
    assert.deepEqual(rf.calls.map((c) => c.kind), ["abort"]);
  });

  test("destroy() cancels without callbacks", async () => {
    const store = new FragmentStore();
    add(store, 0);
    const loader = new (createLoaders(store).pLoader)(hlsConfig);
    const r = recorder<PlaylistLoaderContext>();
    loader.load(playlistContext(`${store.playlistUrl}?_HLS_msn=1`), loaderConfig(), r.callbacks);
    loader.destroy();
    add(store, 1);
    await tick(10);
    assert.equal(r.calls.length, 0);
  });

  test("fragments: a copy of the bytes, so a transfer leaves the store intact", async () => {
    const store = new FragmentStore();
    add(store, 3, 1880);
    const r = recorder<FragmentLoaderContext>();
    new (createLoaders(store).fLoader)(hlsConfig).load(fragmentContext("http://hlsrelay.invalid/seq/3.ts", 3), loaderConfig(), r.callbacks);
    const o = await r.settled;
    assert.equal(o.kind, "success");
    assert.ok(o.data instanceof ArrayBuffer);
    const data = o.data as ArrayBuffer;
    assert.equal(data.byteLength, 1880);
    assert.notEqual(data, store.get(3)?.data);
    assert.equal(o.stats.loaded, 1880);
    assert.equal(o.stats.total, 1880);
    // What hls.js does with its worker on: transfer the buffer away.
    structuredClone(data, { transfer: [data] });
    assert.equal(data.byteLength, 0);
    assert.equal(store.get(3)?.data.byteLength, 1880);
    assert.equal(new Uint8Array(store.get(3)?.data ?? new ArrayBuffer(0))[0], 4);
  });

  test("a fragment no longer held is a 404", async () => {
    const store = new FragmentStore({ window: 2 });
    for (let s = 0; s < 5; s++) add(store, s);
    const r = recorder<FragmentLoaderContext>();
    new (createLoaders(store).fLoader)(hlsConfig).load(fragmentContext("http://hlsrelay.invalid/seq/1.ts", 1), loaderConfig(), r.callbacks);
    const o = await r.settled;
    assert.equal(o.kind, "error");
    assert.equal(o.code, 404);
  });
});

describe("hls.js loaders, parts (LL-HLS)", () => {
  const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

  const sent = new Map<string, Part[]>();

  function addPart(store: FragmentStore, seq: number, index: number, bytes = 8): void {
    const p: Part = { seq, index, epoch: "e", duration: 0.2, independent: index === 0, disc: false, time: T0 + seq * 1000 + index * 200, data: new Uint8Array(bytes).fill(seq * 10 + index).buffer, receivedAt: Date.now() };
    const key = `${seq}`;
    sent.set(key, [...(index === 0 ? [] : (sent.get(key) ?? [])), p]);
    store.addPart(p);
  }

  /** Closes fragment `seq` with the parts added last for it, as the client's fragment event does. */
  function close(store: FragmentStore, seq: number): void {
    const parts = sent.get(`${seq}`) ?? [];
    const data = new Uint8Array(parts.reduce((n, p) => n + p.data.byteLength, 0));
    parts.forEach((p, i) => data.set(new Uint8Array(p.data), i * 8));
    store.add({ seq, epoch: "e", duration: parts.length * 0.2, disc: false, data: data.buffer, receivedAt: Date.now(), parts, complete: true });
  }

  /** A store holding fragment 10 (parts 0-4, closed) and init segment 1. */
  function storeWithParts(): FragmentStore {
    const store = new FragmentStore();
    store.addInit({ data: new Uint8Array([0x66, 0x74, 0x79, 0x70, 0x69]).buffer });
    for (let i = 0; i < 5; i++) addPart(store, 10, i);
    close(store, 10);
    return store;
  }

  function partContext(url: string, sn: number | "initSegment", index?: number, range?: [number, number]): FragmentLoaderContext {
    return {
      url,
      type: "media-fragment",
      responseType: "arraybuffer",
      frag: { sn },
      part: index === undefined ? null : { index },
      rangeStart: range?.[0] ?? 0,
      rangeEnd: range?.[1] ?? 0,
    } as unknown as FragmentLoaderContext;
  }

  async function loadBytes(store: FragmentStore, ctx: FragmentLoaderContext, config = loaderConfig()): Promise<Outcome<FragmentLoaderContext>> {
    const r = recorder<FragmentLoaderContext>();
    new (createLoaders(store).fLoader)(hlsConfig).load(ctx, config, r.callbacks);
    return r.settled;
  }

  test("parts, the init segment and byte ranges are served from memory, as copies", async () => {
    const store = new FragmentStore();
    store.addInit({ data: new Uint8Array([0x66, 0x74, 0x79, 0x70, 0x69]).buffer });
    addPart(store, 10, 0);
    addPart(store, 10, 1);
    let o = await loadBytes(store, partContext("http://hlsrelay.invalid/part/10.1.m4s", 10, 1));
    assert.equal(o.kind, "success");
    assert.deepEqual([...new Uint8Array(o.data as ArrayBuffer)], new Array(8).fill(101));
    o = await loadBytes(store, partContext("http://hlsrelay.invalid/init/1.mp4", "initSegment"));
    assert.deepEqual([...new Uint8Array(o.data as ArrayBuffer)], [0x66, 0x74, 0x79, 0x70, 0x69]);
    o = await loadBytes(store, partContext("http://hlsrelay.invalid/init/1.mp4", "initSegment", undefined, [1, 3]));
    assert.deepEqual([...new Uint8Array(o.data as ArrayBuffer)], [0x74, 0x79], "rangeEnd is exclusive");
    // Once fragment 10 closes, its parts are slices of its bytes, and the fragment is whole.
    close(store, 10);
    o = await loadBytes(store, partContext("http://hlsrelay.invalid/part/10.1.m4s", 10, 1));
    assert.deepEqual([...new Uint8Array(o.data as ArrayBuffer)], new Array(8).fill(101));
    o = await loadBytes(store, partContext("http://hlsrelay.invalid/seq/10.m4s", 10));
    assert.deepEqual([...new Uint8Array(o.data as ArrayBuffer)], [...new Array(8).fill(100), ...new Array(8).fill(101)]);
    const whole = store.get(10)?.data;
    assert.ok(whole && o.data !== whole, "a copy");
    o = await loadBytes(store, partContext("http://hlsrelay.invalid/init/9.mp4", "initSegment"));
    assert.deepEqual([o.kind, o.code], ["error", 404]);
  });

  test("a preload-hinted part is answered the moment it lands", async () => {
    const store = storeWithParts();
    addPart(store, 11, 0);
    const r = recorder<FragmentLoaderContext>();
    new (createLoaders(store).fLoader)(hlsConfig).load(partContext("http://hlsrelay.invalid/part/11.1.m4s", 11, 1), loaderConfig(), r.callbacks);
    await tick(30);
    assert.equal(r.calls.length, 0, "held while part 11.1 is missing");
    const landed = performance.now();
    addPart(store, 11, 1);
    const o = await r.settled;
    assert.equal(o.kind, "success");
    assert.deepEqual([...new Uint8Array(o.data as ArrayBuffer)], new Array(8).fill(111));
    assert.ok(o.stats.loading.first >= landed);
  });

  test("a hinted part that cannot come any more is a 404: its fragment closed without it, the stream ended, or too long a wait", async () => {
    const store = storeWithParts();
    addPart(store, 11, 0);
    const r = recorder<FragmentLoaderContext>();
    new (createLoaders(store).fLoader)(hlsConfig).load(partContext("http://hlsrelay.invalid/part/11.1.m4s", 11, 1), loaderConfig(), r.callbacks);
    await tick(10);
    addPart(store, 12, 0); // 11 ended after one part
    let o = await r.settled;
    assert.deepEqual([o.kind, o.code], ["error", 404]);
    const ended = recorder<FragmentLoaderContext>();
    new (createLoaders(store).fLoader)(hlsConfig).load(partContext("http://hlsrelay.invalid/part/12.1.m4s", 12, 1), loaderConfig(), ended.callbacks);
    await tick(10);
    store.end();
    o = await ended.settled;
    assert.deepEqual([o.kind, o.code], ["error", 404]);
    const slow = storeWithParts();
    const t0 = Date.now();
    o = await loadBytes(slow, partContext("http://hlsrelay.invalid/part/11.0.m4s", 11, 0), loaderConfig(100));
    assert.deepEqual([o.kind, o.code], ["error", 404]);
    assert.ok(Date.now() - t0 >= 85, "waited, within hls.js's time-out");
  });

  test("_HLS_msn and _HLS_part: held until that part lands", async () => {
    const store = storeWithParts();
    addPart(store, 11, 0);
    const r = recorder<PlaylistLoaderContext>();
    new (createLoaders(store).pLoader)(hlsConfig).load(playlistContext(`${store.playlistUrl}?_HLS_msn=11&_HLS_part=1`), loaderConfig(), r.callbacks);
    await tick(20);
    assert.equal(r.calls.length, 0, "held while part 11.1 is missing");
    addPart(store, 11, 1);
    const o = await r.settled;
    assert.equal(o.kind, "success");
    assert.match(String(o.data), /URI="part\/11\.1\.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part\/11\.2\.m4s"\n$/);
  });

  test("a part past the last one of a closed fragment is answered with the next fragment's first part, not at the closing F", async () => {
    const store = storeWithParts();
    for (let i = 0; i < 4; i++) addPart(store, 11, i);
    const r = recorder<PlaylistLoaderContext>();
    new (createLoaders(store).pLoader)(hlsConfig).load(playlistContext(`${store.playlistUrl}?_HLS_msn=11&_HLS_part=4`), loaderConfig(), r.callbacks);
    await tick(10);
    close(store, 11);
    assert.equal(store.newest, 11);
    await tick(20);
    assert.equal(r.calls.length, 0, "11 closed with four parts: part 4 is 12's first");
    addPart(store, 12, 0);
    const o = await r.settled;
    assert.match(String(o.data), /seq\/11\.m4s\n.*\n#EXT-X-PART:DURATION=0\.2,URI="part\/12\.0\.m4s",INDEPENDENT=YES\n/s);
  });

  test("hls.js's delivery directives are read when the URL carries none", async () => {
    const store = storeWithParts();
    const r = recorder<PlaylistLoaderContext>();
    const ctx = { ...playlistContext(store.playlistUrl), deliveryDirectives: { msn: 11, part: 0 } } as unknown as PlaylistLoaderContext;
    new (createLoaders(store).pLoader)(hlsConfig).load(ctx, loaderConfig(), r.callbacks);
    await tick(20);
    assert.equal(r.calls.length, 0);
    addPart(store, 11, 0);
    assert.equal((await r.settled).kind, "success");
  });
});
