import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RelayClient, type Fragment } from "../src/client";
import { HlsWebSocket } from "../src/compat";
import { RelayError } from "../src/errors";
import { TcpProxy, TestPublisher, fakeSegment, signToken, sleep, startRelay, until, type Relay } from "./helpers/relay";

// Against a real relay process (bin/hlsrelay from `make build`), with Node's WebSocket
// (node --experimental-websocket).

let relay: Relay;
let streamNo = 0;
const newStream = (): string => `sdkjs/test${++streamNo}/640x360-30~400`;

function collect(c: RelayClient) {
  const fragments: Fragment[] = [];
  const errors: RelayError[] = [];
  const opens: Array<{ ext: boolean; resumed: boolean }> = [];
  let ended = false;
  c.on("fragment", (f) => fragments.push(f));
  c.on("error", (e) => errors.push(e));
  c.on("open", (i) => opens.push({ ext: i.ext, resumed: i.resumed }));
  c.on("ended", () => (ended = true));
  return { fragments, errors, opens, ended: () => ended };
}

describe("against a real relay", { timeout: 120_000 }, () => {
  before(async () => {
    relay = await startRelay();
  });
  after(async () => {
    await relay?.stop();
  });

  test("fragments arrive byte-identical, in order, with seq, duration and publish time", async () => {
    const stream = newStream();
    const pub = await TestPublisher.connect(relay, stream);
    const sent: Array<{ data: Uint8Array; duration: number; time: number }> = [];
    const publish = (n: number, packets: number): void => {
      const f = { data: fakeSegment(n, packets), duration: n % 2 ? 1 : 0.96, time: 1764000000000 + n * 1000 };
      sent.push(f);
      pub.send(f.data, f.duration, f.time);
    };
    for (let n = 0; n < 3; n++) publish(n, 50 + n); // buffered before the viewer comes
    await sleep(100);
    const client = new RelayClient({ url: relay.url, stream, token: signToken(relay.pullSecret, "PULL", stream) });
    const got = collect(client);
    client.start();
    await until(() => got.fragments.length === 3, 10_000, "the buffered fragments");
    publish(3, 5600); // ~1 MB
    for (let n = 4; n < 10; n++) publish(n, 10 + n);
    await until(() => got.fragments.length === 10, 10_000, "the live fragments");
    pub.end();
    await until(got.ended, 10_000, "the end of the stream");
    assert.deepEqual(got.errors, []);
    assert.deepEqual(got.opens, [{ ext: true, resumed: false }]);
    assert.equal(client.state, "closed");
    for (const [i, f] of got.fragments.entries()) {
      const want = sent[i];
      assert.ok(want);
      assert.equal(f.seq, i);
      assert.equal(f.duration, want.duration);
      assert.equal(f.time, want.time);
      assert.equal(f.disc, false);
      assert.ok(Buffer.from(f.data).equals(Buffer.from(want.data)), `fragment ${i} bytes`);
    }
    assert.equal(got.fragments[3]?.data.byteLength, 5600 * 188);
    client.destroy();
  });

  test("a cut connection reconnects and resumes without gap or duplicate", async () => {
    const stream = newStream();
    const proxy = await TcpProxy.start(relay.port);
    const pub = await TestPublisher.connect(relay, stream);
    pub.send(fakeSegment(0), 1);
    const client = new RelayClient({
      url: `ws://127.0.0.1:${proxy.port}/`,
      stream,
      token: signToken(relay.pullSecret, "PULL", stream),
      reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    });
    const got = collect(client);
    let closes = 0;
    client.on("close", () => closes++);
    client.start();
    const total = 60;
    let published = 1;
    const timer = setInterval(() => {
      if (published < total) pub.send(fakeSegment(published++), 1);
    }, 20);
    try {
      await until(() => got.fragments.length >= 10, 10_000, "10 fragments");
      proxy.cut();
      await until(() => got.opens.length >= 2 && got.fragments.length >= 25, 10_000, "the resumed stream");
      proxy.cut();
      await until(() => got.fragments.length === total, 10_000, `all ${total} fragments`);
    } finally {
      clearInterval(timer);
    }
    await sleep(100);
    assert.equal(got.fragments.length, total, "nothing more");
    assert.equal(closes >= 2, true, `the cuts were seen (${closes} closes)`);
    assert.deepEqual(got.opens.slice(1).map((o) => o.resumed), got.opens.slice(1).map(() => true), "every reconnect resumed");
    assert.deepEqual(got.fragments.map((f) => f.seq), Array.from({ length: total }, (_, i) => i));
    assert.deepEqual(got.fragments.filter((f) => f.disc).map((f) => f.seq), [], "no discontinuity");
    assert.equal(client.stats.duplicates, 0);
    for (const f of got.fragments) {
      assert.ok(Buffer.from(f.data).equals(Buffer.from(fakeSegment(f.seq))), `fragment ${f.seq} bytes`);
    }
    client.destroy();
    pub.end();
    await proxy.close();
  });

  test("a bad token is refused with AUTH_ERROR, and the client stops", async () => {
    const stream = newStream();
    const pub = await TestPublisher.connect(relay, stream);
    pub.send(fakeSegment(0), 1);
    const client = new RelayClient({ url: relay.url, stream, token: signToken("not-the-pull-secret", "PULL", stream) });
    const got = collect(client);
    const closed = new Promise<boolean>((resolve) => client.on("close", (i) => resolve(i.willReconnect)));
    client.start();
    assert.equal(await closed, false);
    assert.equal(got.errors.length, 1);
    const e = got.errors[0];
    assert.ok(e instanceof RelayError);
    assert.equal(e.code, "AUTH_ERROR");
    assert.equal(e.fromServer, true);
    assert.deepEqual(got.fragments, []);
    assert.equal(client.state, "closed");
    pub.end();
  });

  test("a token for another stream is refused too", async () => {
    const stream = newStream();
    const client = new RelayClient({ url: relay.url, stream, token: signToken(relay.pullSecret, "PULL", "another/stream") });
    const got = collect(client);
    const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
    client.start();
    await closed;
    assert.deepEqual(got.errors.map((e) => [e.code, e.fromServer]), [["AUTH_ERROR", true]]);
  });

  test("base protocol (no ext): fragments numbered by the client, bytes identical", async () => {
    const stream = newStream();
    const pub = await TestPublisher.connect(relay, stream);
    const client = new RelayClient({ url: relay.url, stream, token: signToken(relay.pullSecret, "PULL", stream), extensions: false });
    const got = collect(client);
    client.start();
    await until(() => got.opens.length === 1, 10_000, "OK");
    for (let n = 0; n < 4; n++) pub.send(fakeSegment(n + 100), 1, 1764000000000);
    await until(() => got.fragments.length === 4, 10_000, "4 fragments");
    assert.deepEqual(got.opens, [{ ext: false, resumed: false }]);
    assert.deepEqual(got.fragments.map((f) => [f.seq, f.epoch, f.time]), [
      [0, "", undefined],
      [1, "", undefined],
      [2, "", undefined],
      [3, "", undefined],
    ]);
    for (const f of got.fragments) assert.ok(Buffer.from(f.data).equals(Buffer.from(fakeSegment(f.seq + 100))));
    client.destroy();
    pub.end();
  });

  test("compat HlsWebSocket: pulls through hls.js loaders, error and close events", async () => {
    const g = globalThis as { self?: unknown; location?: { href: string } };
    g.self ??= globalThis;
    g.location ??= { href: "http://localhost/" };
    const stream = newStream();
    const pub = await TestPublisher.connect(relay, stream);
    pub.send(fakeSegment(0), 1);

    const bad = new HlsWebSocket({ cdnServerUrl: relay.url, streamId: stream, authToken: "x.y.z" });
    const badErrors: Error[] = [];
    let badClosed = 0;
    bad.addEventListener("error", (e) => badErrors.push(e));
    bad.addEventListener("close", () => badClosed++);
    bad.start();
    await until(() => badClosed === 1, 10_000, "close after the refusal");
    assert.equal(badErrors.length, 1);
    assert.ok(badErrors[0] instanceof RelayError);
    assert.equal((badErrors[0] as RelayError).code, "AUTH_ERROR");
    bad.destroy();

    const hls = new HlsWebSocket({ cdnServerUrl: relay.url, streamId: stream, authToken: signToken(relay.pullSecret, "PULL", stream), maxInitialFragments: 1 });
    const events: string[] = [];
    hls.addEventListener("close", () => events.push("close"));
    hls.addEventListener("ended", () => events.push("ended"));
    hls.addEventListener("error", (e) => events.push(`error ${e.message}`));
    hls.start();
    hls.setDelayOptions(2, 4);
    await sleep(200);
    pub.send(fakeSegment(1), 1);
    pub.end();
    await until(() => events.includes("ended") && events.includes("close"), 10_000, "ended and close");
    assert.deepEqual(events, ["ended", "close"]);
    hls.destroy();
  });
});
