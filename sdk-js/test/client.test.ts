import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { RelayClient, type Fragment, type InitSegment, type Part, type RelayClientOptions } from "../src/client";
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

describe("RelayClient, parts extension", () => {
  beforeEach(() => FakeWebSocket.reset());
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  /** A client asking for parts, recording init, part and fragment events in one ordered log. */
  function partsClient(extra: Partial<RelayClientOptions> = {}) {
    const r = client({ parts: true, ...extra });
    const log: string[] = [];
    const parts: Part[] = [];
    const inits: InitSegment[] = [];
    const opens: Array<{ parts: boolean; resumed: boolean }> = [];
    r.c.on("open", (i) => opens.push({ parts: i.parts, resumed: i.resumed }));
    r.c.on("init", (i) => {
      inits.push(i);
      log.push(`init ${i.epoch} ${[...new Uint8Array(i.data)].join(",")}`);
    });
    r.c.on("part", (p) => {
      parts.push(p);
      log.push(`part ${p.seq}.${p.index}${p.disc ? " disc" : ""}`);
    });
    r.c.on("fragment", (f) => log.push(`fragment ${f.seq} complete=${String(f.complete)}`));
    r.c.on("discontinuity", (d) => log.push(`disc ${d.seq} ${d.reason}`));
    return { ...r, log, parts, inits, opens };
  }

  function part(ws: FakeWebSocket, header: string, ...bytes: number[]): void {
    ws.text(header);
    ws.binary(new Uint8Array(bytes));
  }

  test("asks for parts; delivers init, each part at once and the fragment at its closing F", async () => {
    const { c, log, parts, inits, fragments, opens, errors } = partsClient({ maxInitialFragments: 1 });
    c.start();
    const ws = await connected();
    assert.equal(ws.sent[0], "PULL:stream=room1%2Fcam&auth=tok&max_initial_fragments=1&ext=1&parts=1");
    assert.equal(pullOf(ws).parts, true);
    ws.text("OK:ext=1&epoch=E1&parts=1");
    assert.deepEqual(opens, [{ parts: true, resumed: false }]);
    ws.text("I");
    ws.binary(new Uint8Array([0x66, 0x74]));
    part(ws, "P:seq=17&part=0&duration=0.2&independent=1&time=1764000000123", 1, 1);
    assert.deepEqual(log, ["init E1 102,116", "part 17.0"], "each part is emitted the moment it lands");
    part(ws, "P:seq=17&part=1&duration=0.25&time=1764000000323", 2);
    ws.text("F:duration=0.45&seq=17&time=1764000000123&parts=2");
    part(ws, "P:seq=18&part=0&duration=0.2&independent=1", 3);
    assert.deepEqual(log, ["init E1 102,116", "part 17.0", "part 17.1", "fragment 17 complete=true", "part 18.0"]);
    assert.equal(inits[0]?.epoch, "E1");
    assert.deepEqual(
      parts.map((p) => [p.seq, p.index, p.epoch, p.duration, p.independent, p.time, p.disc, [...new Uint8Array(p.data)]]),
      [
        [17, 0, "E1", 0.2, true, 1764000000123, false, [1, 1]],
        [17, 1, "E1", 0.25, false, 1764000000323, false, [2]],
        [18, 0, "E1", 0.2, true, undefined, false, [3]],
      ],
    );
    const f = fragments[0];
    assert.ok(f);
    assert.deepEqual([f.seq, f.epoch, f.duration, f.time, f.disc, f.complete], [17, "E1", 0.45, 1764000000123, false, true]);
    assert.deepEqual([...new Uint8Array(f.data)], [1, 1, 2], "the parts' bytes, one after the other");
    assert.deepEqual(f.parts, parts.slice(0, 2));
    assert.deepEqual(c.position, { epoch: "E1", seq: 17 }, "resume is per fragment: the last one closed");
    assert.deepEqual([c.stats.fragments, c.stats.parts, c.stats.bytes], [1, 3, 3]);
    assert.deepEqual(errors, []);
  });

  test("whole fragments are delivered as before in a parts session (MPEG-TS, or fMP4 not sent in parts)", async () => {
    const { c, fragments, log } = partsClient();
    c.start();
    const ws = await connected();
    ws.text("OK:ext=1&epoch=E1&parts=1");
    fragment(ws, "F:duration=1&seq=3", 3);
    fragment(ws, "F:duration=1&seq=4&parts=0", 4);
    assert.deepEqual(fragments.map((f) => [f.seq, f.parts, f.complete, [...new Uint8Array(f.data)]]), [
      [3, undefined, undefined, [0x47, 3, 3]],
      [4, undefined, undefined, [0x47, 4, 4]],
    ]);
    assert.deepEqual(log, ["fragment 3 complete=undefined", "fragment 4 complete=undefined"]);
  });

  test("a relay that does not confirm parts sends whole fragments; I, P or a closing F from it are protocol errors", async () => {
    const { c, fragments, opens, errors } = partsClient();
    c.start();
    let ws = await connected();
    ws.text("OK:ext=1&epoch=E1");
    assert.deepEqual(opens, [{ parts: false, resumed: false }]);
    fragment(ws, "F:duration=1&seq=3", 3);
    assert.equal(fragments.length, 1);
    ws.text("P:seq=4&part=0&duration=0.2");
    assert.equal(errors[0]?.code, "PROTOCOL_ERROR");
    for (const bad of ["I", "F:duration=1&seq=4&parts=5"]) {
      await until(() => FakeWebSocket.instances.length === errors.length + 1, 1000, "reconnect");
      ws = await connected();
      ws.text("OK:ext=1&epoch=E1");
      ws.text(bad);
      assert.equal(errors[errors.length - 1]?.code, "PROTOCOL_ERROR", bad);
    }
    c.destroy();
  });

  test("parts: true without extensions sends a base PULL", async () => {
    const { c } = partsClient({ extensions: false });
    c.start();
    const ws = await connected();
    assert.equal(ws.sent[0], "PULL:stream=room1%2Fcam&auth=tok");
  });

  test("a binary message without a preceding F, P or I is a protocol error", async () => {
    const { c, errors } = partsClient();
    c.start();
    const ws = await connected();
    ws.text("OK:ext=1&epoch=E1&parts=1");
    part(ws, "P:seq=1&part=0&duration=0.2&independent=1", 1);
    ws.binary(new Uint8Array([2])); // a second binary after one P
    assert.equal(errors[0]?.code, "PROTOCOL_ERROR");
    assert.match(errors[0]?.message ?? "", /without a preceding F, P or I/);
    c.destroy();
  });

  test("joined in the middle of a fragment: complete is false, duration and time are the whole fragment's", async () => {
    const { c, fragments, log } = partsClient();
    c.start();
    const ws = await connected();
    ws.text("OK:ext=1&epoch=E1&parts=1");
    ws.text("I");
    ws.binary(new Uint8Array([9]));
    part(ws, "P:seq=17&part=3&duration=0.2&independent=1&time=1764000000723", 3);
    part(ws, "P:seq=17&part=4&duration=0.2&time=1764000000923", 4);
    ws.text("F:duration=1&seq=17&time=1764000000123&parts=5");
    part(ws, "P:seq=18&part=0&duration=0.2&independent=1", 0);
    ws.text("F:duration=0.2&seq=18&parts=1");
    assert.deepEqual(log, ["init E1 9", "part 17.3", "part 17.4", "fragment 17 complete=false", "part 18.0", "fragment 18 complete=true"]);
    const f = fragments[0];
    assert.ok(f);
    assert.deepEqual([f.duration, f.time, f.parts?.map((p) => p.index), [...new Uint8Array(f.data)]], [1, 1764000000123, [3, 4], [3, 4]]);
  });

  test("resume per fragment: after = the last fragment closed; parts received again are dropped", async () => {
    const { c, log, fragments } = partsClient();
    c.start();
    let ws = await connected();
    ws.text("OK:ext=1&epoch=E1&parts=1");
    part(ws, "P:seq=17&part=0&duration=0.5&independent=1", 1);
    part(ws, "P:seq=17&part=1&duration=0.5", 2);
    ws.text("F:duration=1&seq=17&parts=2");
    part(ws, "P:seq=18&part=0&duration=0.5&independent=1", 3);
    ws.drop(1006);
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    ws = await connected();
    const p = pullOf(ws);
    assert.deepEqual(p.resume, { epoch: "E1", after: 17 }, "18 did not close: resume after 17");
    assert.equal(p.parts, true);
    ws.text("OK:ext=1&epoch=E1&parts=1");
    ws.text("I");
    ws.binary(new Uint8Array([9]));
    part(ws, "P:seq=18&part=0&duration=0.5&independent=1", 3); // sent again from the first part
    part(ws, "P:seq=18&part=1&duration=0.5", 4);
    ws.text("F:duration=1&seq=18&parts=2");
    assert.deepEqual(log, ["part 17.0", "part 17.1", "fragment 17 complete=true", "part 18.0", "init E1 9", "part 18.1", "fragment 18 complete=true"]);
    assert.deepEqual([...new Uint8Array(fragments[1]?.data ?? new ArrayBuffer(0))], [3, 4]);
    assert.equal(c.stats.duplicates, 1);
  });

  test("discontinuities: a fragment the relay skipped, a disc part, a restarted stream", async () => {
    const { c, log, fragments } = partsClient();
    c.start();
    let ws = await connected();
    ws.text("OK:ext=1&epoch=E1&parts=1");
    part(ws, "P:seq=1&part=0&duration=0.5&independent=1", 1);
    ws.text("F:duration=0.5&seq=1&parts=1");
    part(ws, "P:seq=2&part=0&duration=0.5&independent=1", 2);
    // Fragment 2 never closes: the relay skipped this slow viewer ahead, without marking it.
    part(ws, "P:seq=5&part=0&duration=0.5&independent=1", 5);
    ws.text("F:duration=0.5&seq=5&parts=1");
    part(ws, "P:seq=6&part=0&duration=0.5&independent=1&disc=1", 6);
    ws.text("F:duration=0.5&seq=6&parts=1");
    ws.drop();
    await until(() => FakeWebSocket.instances.length === 2, 1000, "reconnect");
    ws = await connected();
    ws.text("OK:ext=1&epoch=E2&parts=1"); // the stream restarted meanwhile
    part(ws, "P:seq=0&part=0&duration=0.5&independent=1", 0);
    ws.text("F:duration=0.5&seq=0&parts=1");
    assert.deepEqual(log, [
      "part 1.0",
      "fragment 1 complete=true",
      "part 2.0",
      "disc 5 gap",
      "part 5.0 disc",
      "fragment 5 complete=true",
      "disc 6 relay",
      "part 6.0 disc",
      "fragment 6 complete=true",
      "disc 0 restart",
      "part 0.0 disc",
      "fragment 0 complete=true",
    ]);
    assert.deepEqual(fragments.map((f) => [f.epoch, f.seq, f.disc]), [
      ["E1", 1, false],
      ["E1", 5, true],
      ["E1", 6, true],
      ["E2", 0, true],
    ]);
  });

  test("a closing F for a fragment none of whose parts arrived delivers nothing", async () => {
    const { c, log } = partsClient();
    c.start();
    const ws = await connected();
    ws.text("OK:ext=1&epoch=E1&parts=1");
    ws.text("F:duration=1&seq=16&parts=5");
    part(ws, "P:seq=17&part=0&duration=0.2&independent=1", 1);
    assert.deepEqual(log, ["part 17.0"]);
    assert.equal(c.position.seq, undefined);
  });
});
