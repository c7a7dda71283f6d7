import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { demoUrl, launchBrowser, paneSnapshots, screenshot, snapshot, waitPlaying, type Browser, type PaneSnapshot } from "./helpers/browser";
import {
  PULL_SECRET,
  TcpProxy,
  freePort,
  publisherConnections,
  repoRoot,
  signToken,
  sleep,
  startCmafPublisher,
  startPublisher,
  startRelay,
  startStaticServer,
  until,
  type Proc,
  type Relay,
} from "./helpers/processes";

// The demo page in Debian's headless Chromium against a real relay (bin/hlsrelay with
// DEMO_PAGE_ENABLED=YES) fed by bin/publish with the committed samples: MPEG-TS in 1 s
// fragments, and fMP4 in 200 ms parts (-cmaf).

const STREAM = "e2e/sample/640x360-30~400";
const PARTS_STREAM = "e2e/sample-ll/640x360-30~400";
const RECONNECT_STREAM = "e2e/reconnect/640x360-30~400";

let relay: Relay;
let publisher: Proc;
let partsPublisher: Proc;
let publisherProxy: TcpProxy;
let reconnectingPublisher: Proc;
let browser: Browser;

/**
 * Waits until every player of the page shows a picture, then until each plays `seconds`
 * more (its playhead advanced, and it decoded at least 15 frames a second); returns them then.
 */
async function waitPanesPlaying(page: Page, browser: Browser, count: number, seconds: number): Promise<PaneSnapshot[]> {
  const deadline = Date.now() + 20_000 + seconds * 1000;
  const fail = (s: PaneSnapshot[], what: string): Error => new Error(`${what}: ${JSON.stringify(s, null, 1)}\nbrowser log:\n${browser.logs.slice(-30).join("\n")}`);
  let s = await paneSnapshots(page);
  while (!(s.length === count && s.every((p) => p.videoWidth > 0 && p.firstFrameMs !== null))) {
    if (Date.now() > deadline) throw fail(s, "no picture in every player");
    await sleep(100);
    s = await paneSnapshots(page);
  }
  const base = s;
  const done = (): boolean => s.every((p, i) => p.currentTime >= (base[i]?.currentTime ?? 0) + seconds && p.frames >= (base[i]?.frames ?? 0) + 15 * seconds);
  while (!done()) {
    if (Date.now() > deadline) throw fail(s, `not every player played ${seconds} s`);
    await sleep(100);
    s = await paneSnapshots(page);
  }
  return s;
}

describe("the demo page on one relay", { timeout: 300_000 }, () => {
  before(async () => {
    relay = await startRelay();
    publisher = await startPublisher(relay, STREAM);
    partsPublisher = await startCmafPublisher(relay, PARTS_STREAM);
    // The second stream's publisher reaches the relay through a proxy the test cuts.
    publisherProxy = await TcpProxy.start(relay.port);
    reconnectingPublisher = await startPublisher(relay, RECONNECT_STREAM, `ws://127.0.0.1:${publisherProxy.port}/`);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await reconnectingPublisher?.stop();
    await partsPublisher?.stop();
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

  test("(f) the compare view plays the stream in parts with hls.js and directly side by side, each with its relay-to-screen latency; the modes are a click away", async () => {
    const page = await browser.newPage();
    const sockets: string[] = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    const token = signToken(PULL_SECRET, "PULL", PARTS_STREAM);
    const fragmentsToken = signToken(PULL_SECRET, "PULL", STREAM);
    await page.goto(demoUrl(`${relay.http}/demo/`, { mode: "compare", stream: PARTS_STREAM, token, fragmentsStream: STREAM, fragmentsToken }));
    const panes = await waitPanesPlaying(page, browser, 2, 3);
    assert.deepEqual(
      panes.map((p) => [p.mode, p.playing, p.stream, p.state]),
      [
        ["parts", "hls.js, LL-HLS parts", PARTS_STREAM, "live"],
        ["direct", "direct (MSE parts)", PARTS_STREAM, "live"],
      ],
    );
    assert.deepEqual(sockets, [relay.url, relay.url], "one WebSocket per player");
    for (const p of panes) {
      assert.equal(p.videoWidth, 640);
      assert.equal(p.fallback, null);
      // What the person sees: each player's relay-to-screen latency, under it and on the picture.
      assert.match(p.shown.relay, /^\d+\.\d\d s$/, JSON.stringify(p.shown));
      assert.match(p.shown.badge, /^\d+\.\d\d s$/, JSON.stringify(p.shown));
    }
    const counts = await page.evaluate(() =>
      (window as unknown as { hlsrelayDemo: { panes: Array<{ relaySamples(): number[] }> } }).hlsrelayDemo.panes.map((p) => p.relaySamples().length),
    );
    assert.ok(counts.every((n) => n > 30), `relay-to-screen samples: ${counts.join(", ")}`);
    let s = await snapshot(page);
    assert.deepEqual(s.hlsFatal, []);
    assert.deepEqual(s.problems, []);
    assert.equal(s.state, "live");
    await screenshot(page, "player-demo-compare");

    // The whole-fragments mode plays the MPEG-TS stream named in the address; the address follows.
    await page.locator("#modes label", { hasText: "whole fragments" }).click();
    await until(async () => (await paneSnapshots(page))[0]?.stream === STREAM, 5_000, "the whole-fragments mode");
    s = await waitPlaying(page, browser, 2);
    let [p] = await paneSnapshots(page);
    assert.equal(p?.playing, "hls.js, whole fragments");
    assert.equal((await paneSnapshots(page)).length, 1);
    let q = new URL(page.url()).searchParams;
    assert.equal(q.get("mode"), null, "the default mode is left out of the address");
    assert.equal(q.get("fragments_stream"), STREAM);
    assert.match(s.shown.latency, /^\d+\.\d\d s$/, "glass to glass");

    await page.locator("#modes label", { hasText: "direct" }).click();
    await until(async () => (await paneSnapshots(page))[0]?.mode === "direct", 5_000, "the direct mode");
    s = await waitPlaying(page, browser, 2);
    [p] = await paneSnapshots(page);
    assert.equal(p?.playing, "direct (MSE parts)");
    assert.equal(p?.stream, PARTS_STREAM);
    q = new URL(page.url()).searchParams;
    assert.equal(q.get("mode"), "direct");
    assert.deepEqual(s.hlsFatal, []);
    assert.deepEqual(s.problems, []);
    console.log(`compare view: relay to screen ${panes.map((x) => `${x.playing} ${x.shown.relay}`).join(", ")}; first frames ${panes.map((x) => Math.round(x.firstFrameMs ?? 0)).join(" and ")} ms`);
    await page.close();
  });

  test("(g) the direct mode hands an MPEG-TS stream to hls.js, and says so", async () => {
    const page = await browser.newPage();
    await page.goto(demoUrl(`${relay.http}/demo/`, { mode: "direct", stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM) }));
    const s = await waitPlaying(page, browser, 2);
    const [p] = await paneSnapshots(page);
    assert.match(p?.fallback ?? "", /^mpegts: /);
    assert.equal(p?.playing, "hls.js, whole fragments");
    assert.deepEqual(s.hlsFatal, []);
    assert.deepEqual(s.problems, []);
    const log = await page.locator("#log").textContent();
    assert.match(log ?? "", /the direct mode cannot play this stream \(the stream is MPEG-TS\): hls\.js plays it/);
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
