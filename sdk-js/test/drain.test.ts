import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RelayClient, type Fragment } from "../src/client";
import { RelayError } from "../src/errors";
import { TestPublisher, fakeSegment, signToken, until, startRelay, type Relay } from "./helpers/relay";

// A real relay process (bin/hlsrelay from `make build`) that drains on SIGTERM
// (docs/deployment.md): its viewers get E:code=UNAVAILABLE and close 1001, which
// means "connect again", not "the stream ended".

describe("a draining relay", { timeout: 60_000 }, () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay({ SHUTDOWN_TIMEOUT_SECONDS: "4", METRICS_ENABLED: "NO" });
  });
  after(async () => {
    await relay?.stop();
  });

  test("the client receives the last fragment, then UNAVAILABLE, and will reconnect", async () => {
    const stream = "sdkjs/drain/640x360-30~400";
    const pub = await TestPublisher.connect(relay, stream);
    pub.send(fakeSegment(0), 1);
    const client = new RelayClient({
      url: relay.url,
      stream,
      token: signToken(relay.pullSecret, "PULL", stream),
      reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const fragments: Fragment[] = [];
    const errors: RelayError[] = [];
    const closes: Array<{ willReconnect: boolean }> = [];
    let ended = false;
    client.on("fragment", (f) => fragments.push(f));
    client.on("error", (e) => errors.push(e));
    client.on("close", (i) => closes.push({ willReconnect: i.willReconnect }));
    client.on("ended", () => (ended = true));
    client.start();
    await until(() => fragments.length === 1, 10_000, "the first fragment");

    const stopped = relay.stop(); // SIGTERM: the drain waits for the publisher's next fragment
    await new Promise((r) => setTimeout(r, 200));
    pub.send(fakeSegment(1), 1);
    await until(() => closes.length === 1, 10_000, "the close");
    await stopped;

    assert.equal(fragments.length, 2, "the fragment in flight at SIGTERM is delivered");
    assert.ok(Buffer.from(fragments[1]!.data).equals(Buffer.from(fakeSegment(1))));
    assert.deepEqual(errors.map((e) => [e.code, e.fromServer]), [["UNAVAILABLE", true]]);
    assert.deepEqual(closes, [{ willReconnect: true }]);
    assert.equal(ended, false, "a drain is not the end of the stream");
    assert.equal(client.state, "waiting");
    client.destroy();
  });
});
