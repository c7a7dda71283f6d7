import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { RelayClient, type Fragment, type RelayClientOptions } from "../src/client";
import { RelayError } from "../src/errors";
import { decodePull, parseMessage } from "../src/protocol";
import { FakeWebSocket, FakeWebSocketCtor } from "./helpers/fake-websocket";
import { sleep, until } from "./helpers/relay";

const clients: RelayClient[] = [];

function client(extra: Partial<RelayClientOptions> = {}) {
  const c = new RelayClient({
    url: "ws://relay.test/",
    stream: "room1/cam",
    token: "tok",
    WebSocket: FakeWebSocketCtor,
    reconnect: { minDelayMs: 5, maxDelayMs: 20, jitter: 0 },
    ...extra,
  });
  clients.push(c);
  const fragments: Fragment[] = [];
  const errors: RelayError[] = [];
  const events: string[] = [];
  c.on("fragment", (f) => fragments.push(f));
  c.on("error", (e) => errors.push(e));
  c.on("open", (i) => events.push(`open ext=${i.ext} resumed=${i.resumed}`));
  c.on("close", (i) => events.push(`close reconnect=${i.willReconnect}`));
  c.on("ended", () => events.push("ended"));
  c.on("discontinuity", (d) => events.push(`disc ${d.seq} ${d.reason}`));
  return { c, fragments, errors, events };
}

function pullOf(ws: FakeWebSocket) {
  assert.equal(ws.sent.length >= 1, true, "PULL sent");
  const m = parseMessage(ws.sent[0] ?? "");
  assert.ok(m);
  const p = decodePull(m);
  assert.ok(p, `valid PULL: ${ws.sent[0]}`);
  return p;
}

async function connected(): Promise<FakeWebSocket> {
  await until(() => FakeWebSocket.instances.length > 0, 1000, "a socket");
  const ws = FakeWebSocket.last();
  ws.open();
  return ws;
}

function fragment(ws: FakeWebSocket, header: string, byte: number): void {
  ws.text(header);
  ws.binary(new Uint8Array([0x47, byte, byte]));
}

describe("RelayClient", () => {
  beforeEach(() => FakeWebSocket.reset());
  // A failed assertion must not leave a client reconnecting.
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  test("sends PULL with the token and ext=1, delivers fragments with seq, time and bytes", async () => {
    const { c, fragments, events } = client({ maxInitialFragments: 3 });
    c.start();
    const ws = await connected();
    assert.equal(ws.url, "ws://relay.test/");
    assert.equal(ws.binaryType, "arraybuffer");
    const p = pullOf(ws);
    assert.equal(p.stream, "room1/cam");
    assert.equal(p.auth, "tok");
    assert.equal(p.ext, true);
    assert.equal(p.maxInitialFragments, 3);
    assert.equal(p.resume, undefined);
    ws.text("OK:ext=1&epoch=E1");
    fragment(ws, "F:duration=1&seq=7&time=1764000000123", 7);
    fragment(ws, "F:duration=0.5&seq=8", 8);
    assert.deepEqual(events, ["open ext=true resumed=false"]);
    assert.equal(c.state, "open");
    assert.deepEqual(
      fragments.map((f) => [f.seq, f.epoch, f.duration, f.time, f.disc, [...new Uint8Array(f.data)]]),
      [
        [7, "E1", 1, 1764000000123, false, [0x47, 7, 7]],
        [8, "E1", 0.5, undefined, false, [0x47, 8, 8]],
      ],
    );
    c.destroy();
  });

  test("a token function is called for each connection", async () => {
    let n = 0;
    const { c } = client({ token: async () => `t${++n}` });
    c.start();
    let ws = await connected();
    assert.equal(pullOf(ws).auth, "t1");
    ws.text("OK");
    ws.drop();
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    ws = await connected();
    assert.equal(pullOf(ws).auth, "t2");
    c.destroy();
  });

  test("reconnects and resumes after the last fragment: no gap, no duplicate", async () => {
    const { c, fragments, events } = client();
    c.start();
    let ws = await connected();
    ws.text("OK:ext=1&epoch=E1");
    fragment(ws, "F:duration=1&seq=17", 17);
    fragment(ws, "F:duration=1&seq=18", 18);
    ws.drop(1006);
    assert.equal(c.state, "waiting");
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    ws = await connected();
    const p = pullOf(ws);
    assert.deepEqual(p.resume, { epoch: "E1", after: 18 });
    ws.text("OK:ext=1&epoch=E1");
    fragment(ws, "F:duration=1&seq=18", 18); // a relay resending one: dropped
    fragment(ws, "F:duration=1&seq=19", 19);
    assert.deepEqual(fragments.map((f) => f.seq), [17, 18, 19]);
    assert.deepEqual(fragments.map((f) => f.disc), [false, false, false]);
    assert.equal(c.stats.duplicates, 1);
    assert.deepEqual(events, ["open ext=true resumed=false", "close reconnect=true", "open ext=true resumed=true"]);
    c.destroy();
  });

  test("a gap or a new stream instance is a discontinuity", async () => {
    const { c, fragments, events } = client();
    c.start();
    let ws = await connected();
    ws.text("OK:ext=1&epoch=E1");
    fragment(ws, "F:duration=1&seq=1", 1);
    fragment(ws, "F:duration=1&seq=4", 4); // fragments 2 and 3 never came
    fragment(ws, "F:duration=1&seq=5&disc=1", 5); // marked by the relay
    ws.drop();
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    ws = await connected();
    ws.text("OK:ext=1&epoch=E2"); // the stream restarted meanwhile
    fragment(ws, "F:duration=1&seq=0", 0);
    assert.deepEqual(fragments.map((f) => [f.epoch, f.seq, f.disc]), [
      ["E1", 1, false],
      ["E1", 4, true],
      ["E1", 5, true],
      ["E2", 0, true],
    ]);
    assert.deepEqual(events.filter((e) => e.startsWith("disc")), ["disc 4 gap", "disc 5 relay", "disc 0 restart"]);
    c.destroy();
  });

  test("a relay of the base protocol: plain OK, the client numbers fragments, no resume parameters", async () => {
    const { c, fragments, events } = client();
    c.start();
    let ws = await connected();
    assert.equal(pullOf(ws).ext, true);
    ws.text("OK"); // ignores ext=1
    fragment(ws, "F:duration=1", 1);
    fragment(ws, "F:duration=2", 2);
    ws.drop();
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    ws = await connected();
    const p = pullOf(ws);
    assert.equal(p.resume, undefined, "nothing to resume from");
    assert.equal(p.maxInitialFragments, 0, "only new fragments: none delivered twice");
    ws.text("OK");
    fragment(ws, "F:duration=1", 3);
    assert.deepEqual(fragments.map((f) => [f.seq, f.epoch, f.disc, f.time]), [
      [0, "", false, undefined],
      [1, "", false, undefined],
      [2, "", true, undefined],
    ]);
    assert.deepEqual(events, ["open ext=false resumed=false", "close reconnect=true", "open ext=false resumed=false", "disc 2 reconnect"]);
    c.destroy();
  });

  test("extensions: false sends a base PULL", async () => {
    const { c } = client({ extensions: false });
    c.start();
    const ws = await connected();
    assert.equal(ws.sent[0], "PULL:stream=room1%2Fcam&auth=tok");
    c.destroy();
  });

  test("the relay's error surfaces with its code; AUTH_ERROR stops the client", async () => {
    const { c, errors, events } = client();
    c.start();
    const ws = await connected();
    ws.text("E:code=AUTH_ERROR&message=invalid%20token");
    assert.equal(errors.length, 1);
    const e = errors[0];
    assert.ok(e instanceof RelayError);
    assert.equal(e.code, "AUTH_ERROR");
    assert.equal(e.fromServer, true);
    assert.match(e.message, /invalid token/);
    assert.equal(c.state, "closed");
    assert.deepEqual(events, ["close reconnect=false"]);
    await sleep(50);
    assert.equal(FakeWebSocket.instances.length, 1, "no reconnect");
  });

  test("UNAVAILABLE is retried", async () => {
    const { c, errors } = client();
    c.start();
    const ws = await connected();
    ws.text("E:code=UNAVAILABLE&message=shutting%20down");
    assert.equal(errors[0]?.code, "UNAVAILABLE");
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    c.destroy();
  });

  test("CLOSE ends the stream: ended, then close without reconnect", async () => {
    const { c, events } = client();
    c.start();
    const ws = await connected();
    ws.text("OK:ext=1&epoch=E");
    ws.text("CLOSE");
    assert.deepEqual(events, ["open ext=true resumed=false", "ended", "close reconnect=false"]);
    assert.equal(c.state, "closed");
    await sleep(30);
    assert.equal(FakeWebSocket.instances.length, 1);
  });

  test("protocol violations are errors and the client reconnects", async () => {
    const { c, errors } = client();
    c.start();
    const ws = await connected();
    ws.text("OK");
    ws.binary(new Uint8Array([1])); // no F before it
    assert.equal(errors[0]?.code, "PROTOCOL_ERROR");
    assert.equal(errors[0]?.fromServer, false);
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    c.destroy();
  });

  test("heartbeat: H after the interval without sending; idle time-out drops and reconnects", async () => {
    const { c, errors } = client({ heartbeatIntervalMs: 40, idleTimeoutMs: 250 });
    c.start();
    const ws = await connected();
    ws.text("OK");
    await until(() => ws.sent.includes("H"), 1000, "a heartbeat");
    const beats = (): number => ws.sent.filter((s) => s === "H").length;
    const n = beats();
    ws.text("H"); // receiving keeps the connection, sending is what the heartbeat tracks
    await until(() => beats() > n, 1000, "another heartbeat");
    assert.equal(FakeWebSocket.instances.length, 1);
    await until(() => errors.some((e) => e.code === "TIMEOUT"), 2000, "the idle time-out");
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    c.destroy();
  });

  test("no OK within the open time-out: TIMEOUT and retry with back-off", async () => {
    const { c, errors } = client({ openTimeoutMs: 30, reconnect: { minDelayMs: 20, maxDelayMs: 1000, factor: 3, jitter: 0 } });
    c.start();
    await connected();
    const t0 = Date.now();
    await until(() => FakeWebSocket.instances.length === 2, 1000, "first retry");
    await connected();
    await until(() => FakeWebSocket.instances.length === 3, 1000, "second retry");
    const elapsed = Date.now() - t0;
    assert.ok(errors.length >= 2 && errors.every((e) => e.code === "TIMEOUT"));
    // 30 (time-out) + 20 + 30 (time-out) + 60: the second delay grew.
    assert.ok(elapsed >= 100, `back-off grew (${elapsed} ms)`);
    c.destroy();
  });

  test("destroy(): socket closed, no more events, no reconnect", async () => {
    const { c, events } = client();
    c.start();
    const ws = await connected();
    ws.text("OK");
    c.destroy();
    assert.equal(c.state, "closed");
    assert.deepEqual(ws.closedWith, { code: 1000, reason: "client closed" });
    ws.drop();
    ws.text("CLOSE");
    await sleep(30);
    assert.deepEqual(events, ["open ext=false resumed=false"]);
    assert.equal(FakeWebSocket.instances.length, 1);
    c.destroy();
  });

  test("a URL the WebSocket refuses is a fatal CONNECTION_FAILED", async () => {
    const { c, errors, events } = client({
      WebSocket: class {
        constructor(url: string) {
          throw new SyntaxError(`bad URL ${url}`);
        }
      } as unknown as new (url: string) => WebSocket,
    });
    c.start();
    await until(() => errors.length === 1, 1000, "the error");
    assert.equal(errors[0]?.code, "CONNECTION_FAILED");
    assert.deepEqual(events, ["close reconnect=false"]);
    assert.equal(c.state, "closed");
  });

  test("reconnect: false gives up after the first drop", async () => {
    const { c, events } = client({ reconnect: false });
    c.start();
    const ws = await connected();
    ws.text("OK");
    ws.drop();
    assert.deepEqual(events, ["open ext=false resumed=false", "close reconnect=false"]);
    assert.equal(c.state, "closed");
  });
});
