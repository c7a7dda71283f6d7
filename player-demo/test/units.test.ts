import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkSettings, hlsPlaylistUrl, readSettings, sameOriginRelay, settingsSearch, type DemoSettings } from "../src/settings";
import { RollingBitrate, formatBitrate, formatSeconds, percentile, summarize } from "../src/stats";

// The page's logic without a browser: its address, and the figures it shows.

const served = { protocol: "http:", host: "127.0.0.1:8080", search: "" };

describe("settings from the page's address", () => {
  test("a relay serving the page is the default relay", () => {
    assert.equal(sameOriginRelay(served), "ws://127.0.0.1:8080/");
    assert.equal(sameOriginRelay({ ...served, protocol: "https:", host: "cdn.example" }), "wss://cdn.example/");
    assert.equal(sameOriginRelay({ ...served, protocol: "file:", host: "" }), "");
  });

  test("reads stream, token, relay and transport", () => {
    const s = readSettings({ ...served, search: "?stream=demo/sample/640x360-30~400&token=a.b.c&transport=hls" });
    assert.deepEqual(s, { relay: "ws://127.0.0.1:8080/", stream: "demo/sample/640x360-30~400", token: "a.b.c", transport: "hls", debug: false });
    const t = readSettings({ ...served, search: "?stream=room1%2Fcam&relay=wss://relay.example/ws&transport=other&debug=1" });
    assert.deepEqual(t, { relay: "wss://relay.example/ws", stream: "room1/cam", token: "", transport: "ws", debug: true });
    assert.equal(readSettings(served).stream, "");
  });

  test("writes an address that reads back the same, with readable stream ids", () => {
    const cases: DemoSettings[] = [
      { relay: "ws://127.0.0.1:8080/", stream: "demo/sample/640x360-30~400", token: "x.y.z", transport: "ws", debug: false },
      { relay: "wss://other.example/", stream: "a b&c=d/é", token: "", transport: "hls", debug: true },
    ];
    for (const s of cases) assert.deepEqual(readSettings({ ...served, search: settingsSearch(s, served) }), s);
    assert.equal(settingsSearch(cases[0]!, served), "?stream=demo/sample/640x360-30~400&token=x.y.z", "the default relay is left out");
  });

  test("says what is wrong, in words", () => {
    const ok: DemoSettings = { relay: "ws://127.0.0.1:8080/", stream: "s", token: "", transport: "ws", debug: false };
    assert.equal(checkSettings(ok), null);
    assert.equal(checkSettings({ ...ok, relay: "https://relay.example/" }), null);
    assert.match(checkSettings({ ...ok, stream: "" }) ?? "", /Enter the id of a stream/);
    assert.match(checkSettings({ ...ok, stream: "x".repeat(256) }) ?? "", /at most 255/);
    assert.match(checkSettings({ ...ok, relay: "" }) ?? "", /WebSocket URL/);
    assert.match(checkSettings({ ...ok, relay: "relay:8080" }) ?? "", /not a ws:/);
    assert.match(checkSettings({ ...ok, relay: "not a url" }) ?? "", /is not a URL/);
  });

  test("the HLS-over-HTTP playlist of the relay", () => {
    const s: DemoSettings = { relay: "wss://relay.example:8443/", stream: "room1/cam 1", token: "t.o.k", transport: "hls", debug: false };
    assert.equal(hlsPlaylistUrl(s), "https://relay.example:8443/hls/room1/cam%201/index.m3u8?token=t.o.k");
  });
});

describe("figures", () => {
  test("percentiles by nearest rank", () => {
    const v = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    assert.equal(percentile(v, 50), 5);
    assert.equal(percentile(v, 95), 10);
    assert.equal(percentile(v, 90), 9);
    assert.equal(percentile(v, 0), 1);
    assert.equal(percentile([], 50), null);
    assert.deepEqual(summarize([1.5, 1.25, 2]), { count: 3, median: 1.5, p95: 2, min: 1.25, max: 2 });
    assert.equal(summarize([]), null);
  });

  test("bitrate over the newest fragments", () => {
    const b = new RollingBitrate(2);
    assert.equal(b.bitsPerSecond, null);
    b.add(100_000, 1);
    b.add(50_000, 1);
    assert.equal(b.bitsPerSecond, 600_000);
    b.add(50_000, 1); // the first one leaves the window
    assert.equal(b.bitsPerSecond, 400_000);
    b.add(10, 0); // no duration: ignored
    assert.equal(b.bitsPerSecond, 400_000);
    assert.equal(formatBitrate(412_345), "412 kbit/s");
    assert.equal(formatBitrate(2_500_000), "2.50 Mbit/s");
    assert.equal(formatBitrate(null), "–");
    assert.equal(formatSeconds(1.2345), "1.23 s");
    assert.equal(formatSeconds(null), "–");
  });
});
