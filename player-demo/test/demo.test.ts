import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { demoUrl, launchBrowser, screenshot, snapshot, waitPlaying, type Browser } from "./helpers/browser";
import {
  PULL_SECRET,
  TcpProxy,
  freePort,
  publisherConnections,
  repoRoot,
  signToken,
  startPublisher,
  startRelay,
  startStaticServer,
  until,
  type Proc,
  type Relay,
} from "./helpers/processes";

// The demo page in Debian's headless Chromium against a real relay (bin/hlsrelay with
// DEMO_PAGE_ENABLED=YES) fed by bin/publish with the committed sample (1 s fragments).

const STREAM = "e2e/sample/640x360-30~400";
const RECONNECT_STREAM = "e2e/reconnect/640x360-30~400";

let relay: Relay;
let publisher: Proc;
let publisherProxy: TcpProxy;
let reconnectingPublisher: Proc;
let browser: Browser;

describe("the demo page on one relay", { timeout: 240_000 }, () => {
  before(async () => {
    relay = await startRelay();
    publisher = await startPublisher(relay, STREAM);
    // The second stream's publisher reaches the relay through a proxy the test cuts.
    publisherProxy = await TcpProxy.start(relay.port);
    reconnectingPublisher = await startPublisher(relay, RECONNECT_STREAM, `ws://127.0.0.1:${publisherProxy.port}/`);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await reconnectingPublisher?.stop();
    await publisher?.stop();
    await publisherProxy?.close();
    await relay?.stop();
  });

  test("(a) plays the stream through the SDK, served by the relay itself", async () => {
    const page = await browser.newPage();
    const sockets: string[] = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM) }));
    const s = await waitPlaying(page, browser, 3);
    assert.equal(s.videoWidth, 640);
    assert.equal(s.videoHeight, 360);
    assert.equal(s.state, "live");
    assert.deepEqual(s.hlsFatal, [], "no fatal hls.js error");
    assert.deepEqual(s.problems, []);
    assert.deepEqual(sockets, [relay.url], "the page pulls from the relay that served it");
    // What the person sees: a latency, a bitrate, the buffer.
    assert.match(s.shown.status, /^live$/);
    assert.match(s.shown.latency, /^\d+\.\d\d s$/);
    assert.match(s.shown.bitrate, /^\d+ kbit\/s$/);
    assert.match(s.shown.buffer, /^\d+\.\d\d s$/);
    assert.equal(s.shown.alert, null);
    const file = await screenshot(page, "player-demo");
    assert.ok(existsSync(file));
    console.log(`screenshot of the playing demo: ${path.relative(repoRoot, file)}`);
    console.log(`first frame of the browser's first page: ${Math.round(s.firstFrameMs ?? 0)} ms after navigation start`);
    await page.close();
  });

  test("(c) keeps playing after the publisher reconnects mid-stream", async () => {
    const page = await browser.newPage();
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: RECONNECT_STREAM, token: signToken(PULL_SECRET, "PULL", RECONNECT_STREAM) }));
    const before = await waitPlaying(page, browser, 2);
    const connections = publisherConnections(relay, RECONNECT_STREAM);
    publisherProxy.cut();
    await until(() => publisherConnections(relay, RECONNECT_STREAM) > connections, 15_000, "the publisher to reconnect");
    assert.ok(reconnectingPublisher.running, "bin/publish reconnected by itself");
    // Well past what was buffered at the cut: these seconds came from the new connection.
    const s = await waitPlaying(page, browser, 5, { since: before });
    assert.deepEqual(s.hlsFatal, []);
    assert.deepEqual(s.problems, []);
    assert.equal(s.state, "live");
    console.log(`publisher reconnect: the viewer saw ${s.stalls} stall(s), ${(s.stalledMs / 1000).toFixed(2)} s in all, ${s.seeks} seek(s)`);
    await page.close();
  });

  test("(d) resumes after the viewer's socket is cut; the page is served by a static server", async () => {
    const site = await startStaticServer(path.join(repoRoot, "player-demo", "dist"));
    const viewerProxy = await TcpProxy.start(relay.port);
    try {
      const page = await browser.newPage();
      await page.goto(
        demoUrl(site.url, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM), relay: `ws://127.0.0.1:${viewerProxy.port}/` }),
      );
      const before = await waitPlaying(page, browser, 2);
      assert.equal(before.opens, 1);
      assert.equal(viewerProxy.open, 1, "the page's one WebSocket goes through the proxy");
      viewerProxy.cut();
      await until(async () => (await snapshot(page)).opens === 2, 10_000, "the page to reconnect");
      const s = await waitPlaying(page, browser, 4, { since: before });
      assert.equal(s.resumes, 1, "resumed after the last fragment received (no gap)");
      assert.deepEqual(s.hlsFatal, []);
      assert.equal(s.state, "live");
      assert.equal(s.shown.reconnects, "1", "the page shows the reconnection");
      // Dropped connections are retried: the page warns while retrying, and shows no error once live again.
      assert.ok(s.problems.every((p) => !p.fatal), JSON.stringify(s.problems));
      assert.equal(s.shown.alert, null);
      console.log(`viewer socket cut: ${s.stalls} stall(s), ${(s.stalledMs / 1000).toFixed(2)} s in all`);
      await page.close();
    } finally {
      await viewerProxy.close();
      await site.close();
    }
  });

  test("(e) plays the relay's HLS over HTTP with plain hls.js, without the WebSocket loader", async () => {
    const page = await browser.newPage();
    const sockets: string[] = [];
    const playlists: string[] = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    page.on("request", (r) => {
      if (r.url().includes("/index.m3u8")) playlists.push(r.url());
    });
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM), transport: "hls" }));
    const s = await waitPlaying(page, browser, 3);
    assert.equal(s.videoWidth, 640);
    assert.deepEqual(s.hlsFatal, []);
    assert.deepEqual(s.problems, []);
    assert.deepEqual(sockets, [], "no WebSocket");
    assert.ok(playlists.length >= 2, `playlist requests: ${playlists.length}`);
    assert.ok(playlists[0]?.startsWith(`${relay.http}/hls/e2e/sample/640x360-30~400/index.m3u8?token=`), playlists[0]);
    assert.ok(playlists.some((u) => u.includes("_HLS_msn=")), "blocking playlist reloads");
    const sum = await page.evaluate(() =>
      (window as unknown as { hlsrelayDemo: { latencySummary(): { median: number; count: number } | null } }).hlsrelayDemo.latencySummary(),
    );
    console.log(`HLS over HTTP: glass-to-glass ${sum?.median.toFixed(2) ?? "?"} s (median of the first ${sum?.count ?? 0} frames, startup included)`);
    await screenshot(page, "player-demo-hls");
    await page.close();
  });

  test("shows a refused token, an unknown stream and an unreachable relay to the person, not only in the console", async () => {
    const page = await browser.newPage();
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken("not-the-pull-secret", "PULL", STREAM) }));
    await until(async () => (await snapshot(page)).shown.alert !== null, 10_000, "the error box");
    let s = await snapshot(page);
    assert.match(s.shown.alert ?? "", /^AUTH_ERROR: The relay refused the token/);
    assert.equal(s.state, "failed");
    assert.equal(await page.locator("#alert").isVisible(), true);

    const nowhere = "e2e/nowhere/640x360-30~400";
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: nowhere, token: signToken(PULL_SECRET, "PULL", nowhere) }));
    await until(async () => (await snapshot(page)).shown.alert !== null, 10_000, "the error box");
    s = await snapshot(page);
    assert.match(s.shown.alert ?? "", /^NO_STREAM: The relay has no stream with this id/);

    // A relay that is not there: a warning while the page retries.
    const closedPort = await freePort();
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM), relay: `ws://127.0.0.1:${closedPort}/` }));
    await until(async () => (await snapshot(page)).shown.alert !== null, 10_000, "the warning");
    s = await snapshot(page);
    assert.match(s.shown.alert ?? "", /^CONNECTION_FAILED: Cannot reach the relay/);
    assert.equal(await page.locator("#alert").getAttribute("data-level"), "warn");
    assert.match(s.shown.status, /reconnecting/);

    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: "" }));
    s = await snapshot(page);
    assert.equal(s.state, "idle", "no stream: the page waits for the person to pick one");
    assert.equal(s.shown.alert, null);
    await page.close();
  });
});
