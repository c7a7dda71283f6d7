import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RelayTimes, fragmentAt, relayTimeInPlaylist, type PlaylistFragment } from "../src/relaytime";
import { checkSettings, hlsPlaylistUrl, modePanes, readSettings, sameOriginRelay, settingsSearch, streamFor, type DemoSettings } from "../src/settings";
import { RollingBitrate, formatBitrate, formatSeconds, percentile, summarize } from "../src/stats";

// The page's logic without a browser: its address, and the figures it shows.

const served = { protocol: "http:", host: "127.0.0.1:8080", search: "" };

describe("settings from the page's address", () => {
  test("a relay serving the page is the default relay", () => {
    assert.equal(sameOriginRelay(served), "ws://127.0.0.1:8080/");
    assert.equal(sameOriginRelay({ ...served, protocol: "https:", host: "cdn.example" }), "wss://cdn.example/");
    assert.equal(sameOriginRelay({ ...served, protocol: "file:", host: "" }), "");
  });

  const plain = { fragmentsStream: "", fragmentsToken: "", mode: "fragments" } as const;

  test("reads stream, token, relay and transport", () => {
    const s = readSettings({ ...served, search: "?stream=demo/sample/640x360-30~400&token=a.b.c&transport=hls" });
    assert.deepEqual(s, { relay: "ws://127.0.0.1:8080/", stream: "demo/sample/640x360-30~400", token: "a.b.c", transport: "hls", debug: false, ...plain });
    const t = readSettings({ ...served, search: "?stream=room1%2Fcam&relay=wss://relay.example/ws&transport=other&debug=1" });
    assert.deepEqual(t, { relay: "wss://relay.example/ws", stream: "room1/cam", token: "", transport: "ws", debug: true, ...plain });
    assert.equal(readSettings(served).stream, "");
  });

  test("reads the mode and the stream of the whole-fragments mode", () => {
    const s = readSettings({ ...served, search: "?mode=compare&stream=demo/ll&token=t.1&fragments_stream=demo/ts&fragments_token=t.2" });
    assert.equal(s.mode, "compare");
    assert.deepEqual(modePanes(s.mode), ["parts", "direct"]);
    assert.deepEqual(streamFor(s, "parts"), { stream: "demo/ll", token: "t.1" });
    assert.deepEqual(streamFor(s, "direct"), { stream: "demo/ll", token: "t.1" });
    assert.deepEqual(streamFor(s, "fragments"), { stream: "demo/ts", token: "t.2" });
    assert.deepEqual(streamFor({ ...s, fragmentsStream: "" }, "fragments"), { stream: "demo/ll", token: "t.1" }, "without one: the stream");
    for (const m of ["fragments", "parts", "direct"] as const) assert.deepEqual(modePanes(m), [m]);
    assert.equal(readSettings({ ...served, search: "?stream=x&mode=fast" }).mode, "fragments", "an unknown mode is the default");
    assert.equal(readSettings({ ...served, search: "?stream=x&mode=direct" }).mode, "direct");
  });

  test("writes an address that reads back the same, with readable stream ids", () => {
    const cases: DemoSettings[] = [
      { relay: "ws://127.0.0.1:8080/", stream: "demo/sample/640x360-30~400", token: "x.y.z", transport: "ws", debug: false, ...plain },
      { relay: "wss://other.example/", stream: "a b&c=d/é", token: "", transport: "hls", debug: true, ...plain, mode: "direct" },
      { relay: "ws://127.0.0.1:8080/", stream: "demo/ll", token: "a", transport: "ws", debug: false, fragmentsStream: "demo/ts", fragmentsToken: "b", mode: "compare" },
    ];
    for (const s of cases) assert.deepEqual(readSettings({ ...served, search: settingsSearch(s, served) }), s);
    assert.equal(settingsSearch(cases[0]!, served), "?stream=demo/sample/640x360-30~400&token=x.y.z", "the default relay and mode are left out");
    assert.equal(settingsSearch(cases[2]!, served), "?mode=compare&stream=demo/ll&token=a&fragments_stream=demo/ts&fragments_token=b");
  });

  test("says what is wrong, in words", () => {
    const ok: DemoSettings = { relay: "ws://127.0.0.1:8080/", stream: "s", token: "", transport: "ws", debug: false, ...plain };
    assert.equal(checkSettings(ok), null);
    assert.equal(checkSettings({ ...ok, relay: "https://relay.example/" }), null);
    assert.match(checkSettings({ ...ok, stream: "" }) ?? "", /Enter the id of a stream/);
    assert.match(checkSettings({ ...ok, stream: "x".repeat(256) }) ?? "", /at most 255/);
    assert.match(checkSettings({ ...ok, fragmentsStream: "x".repeat(256) }) ?? "", /at most 255/);
    assert.match(checkSettings({ ...ok, relay: "" }) ?? "", /WebSocket URL/);
    assert.match(checkSettings({ ...ok, relay: "relay:8080" }) ?? "", /not a ws:/);
    assert.match(checkSettings({ ...ok, relay: "not a url" }) ?? "", /is not a URL/);
  });

  test("the HLS-over-HTTP playlist of the relay", () => {
    const s: DemoSettings = { relay: "wss://relay.example:8443/", stream: "room1/cam 1", token: "t.o.k", transport: "hls", debug: false, ...plain };
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

describe("when the relay received the frame on screen", () => {
  const part = (seq: number, index: number, time: number, duration = 0.2) => ({ seq, epoch: "e", index, duration, time });

  test("parts: the part holding the offset, by cumulative durations", () => {
    const t = new RelayTimes();
    for (let i = 0; i < 5; i++) t.addPart(part(7, i, 1000 + 200 * i));
    assert.equal(t.at(7, 0), 1000);
    assert.equal(t.at(7, 0.1995), 1200, "within a millisecond of a part's end: the next part");
    assert.equal(t.at(7, 0.15), 1000);
    assert.equal(t.at(7, 0.2), 1200, "a frame at a part boundary belongs to the next part");
    assert.equal(t.at(7, 0.95), 1800);
    assert.equal(t.at(7, 1.02), 1800, "rounding past the end");
    assert.equal(t.at(7, 1.5), null, "not received yet");
    assert.equal(t.at(8, 0), null);
    // The closing F adds nothing new; a part already held is ignored.
    t.addFragment({ seq: 7, epoch: "e", time: 1000, parts: [part(7, 3, 1600), part(7, 4, 1800)] });
    t.addPart(part(7, 2, 9999));
    assert.equal(t.at(7, 0.5), 1400);
  });

  test("a fragment joined late starts at its first part received", () => {
    const t = new RelayTimes();
    t.addPart(part(3, 3, 5600));
    t.addPart(part(3, 4, 5800));
    assert.equal(t.at(3, 0.1), 5600);
    assert.equal(t.at(3, 0.3), 5800);
  });

  test("whole fragments: the fragment's time", () => {
    const t = new RelayTimes();
    t.addFragment({ seq: 1, epoch: "e", time: 4000 });
    assert.equal(t.at(1, 0.9), 4000);
    t.addFragment({ seq: 2, epoch: "e" });
    assert.equal(t.at(2, 0), null, "no time");
  });

  test("the program date-time confirms the fragment, or finds it after the numbers diverged", () => {
    const t = new RelayTimes();
    t.addFragment({ seq: 10, epoch: "a", time: 1000 });
    t.addFragment({ seq: 0, epoch: "b", time: 2000 }); // a restarted stream, numbered from 0
    assert.equal(t.at(10, 0.5, 1000), 1000);
    assert.equal(t.at(11, 0.5, 2000), 2000, "the player numbers on: found by its date");
    assert.equal(t.at(10, 0.5, 3000), null, "no fragment with that date");
  });

  test("bounded", () => {
    const t = new RelayTimes(4);
    for (let i = 0; i < 10; i++) t.addFragment({ seq: i, epoch: "e", time: i });
    assert.equal(t.size, 4);
    assert.equal(t.at(5, 0), null);
    assert.equal(t.at(9, 0), 9);
  });

  test("through hls.js's playlist: the fragment by start, the open one included", () => {
    const f = (sn: number, start: number, duration: number, pdt: number): PlaylistFragment => ({ sn, start, duration, programDateTime: pdt });
    const details = { fragments: [f(4, 10, 1, 1000), f(5, 11, 1, 2000)], fragmentHint: f(6, 12, 0.4, 3000) };
    assert.equal(fragmentAt(details, 10.5)?.sn, 4);
    assert.equal(fragmentAt(details, 11)?.sn, 5);
    assert.equal(fragmentAt(details, 12.3)?.sn, 6);
    assert.equal(fragmentAt(details, 13), undefined);
    const t = new RelayTimes();
    for (let i = 0; i < 5; i++) t.addPart(part(5, i, 2000 + 200 * i));
    t.addPart(part(6, 0, 3000));
    t.addPart(part(6, 1, 3200));
    assert.equal(relayTimeInPlaylist(details, t, 11.45), 2400);
    assert.equal(relayTimeInPlaylist(details, t, 12.25), 3200);
    assert.equal(relayTimeInPlaylist(details, t, 10.5), null, "fragment 4 was not recorded");
    assert.equal(relayTimeInPlaylist(undefined, t, 11), null);
  });
});
