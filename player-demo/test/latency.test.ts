import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { percentile, summarize } from "../src/stats";
import { demoUrl, launchBrowser, screenshot, snapshot, waitPlaying, type Browser } from "./helpers/browser";
import { PULL_SECRET, artifactsDir, signToken, sleep, startPublisher, startRelay, until, type Proc, type Relay } from "./helpers/processes";

// Glass-to-glass latency and time to first frame of the demo page in headless Chromium,
// in a clean run: one relay, the committed sample (1 s fragments) published in real time
// by bin/publish, the page served by the relay. The figures are printed (and written to
// test-artifacts/browser-latency.json), never compared with a target here; what is
// asserted is that the video plays throughout and never stalls.
//
// Definitions (docs/benchmarks.md): a frame's glass-to-glass latency is the wall-clock
// time at which Chromium presents it minus its publish time (its fragment's publish
// time, stamped by the publisher, plus the frame's offset into the fragment); the time
// to first frame runs from navigation start to the presentation of the first frame.
//
// PLAYER_LATENCY_SECONDS (default 60) is the measured window; PLAYER_FIRST_FRAME_LOADS
// (default 10) the number of page loads.

const STREAM = "bench/sample/640x360-30~400";
const SECONDS = Number(process.env.PLAYER_LATENCY_SECONDS ?? 60);
const LOADS = Number(process.env.PLAYER_FIRST_FRAME_LOADS ?? 10);
/** Playback before the measured window: startup and hls.js's catching up to its target. */
const SETTLE_SECONDS = 5;

let relay: Relay;
let publisher: Proc;
let browser: Browser;
const results: Record<string, unknown> = {};

function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? "?" : `${Math.round(v)} ms`;
}

describe("latency in the browser (1 s fragments)", { timeout: (SECONDS + LOADS * 10 + 120) * 1000 }, () => {
  before(async () => {
    relay = await startRelay();
    publisher = await startPublisher(relay, STREAM);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await publisher?.stop();
    await relay?.stop();
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(path.join(artifactsDir, "browser-latency.json"), JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2) + "\n");
  });

  test(`glass to glass over ${SECONDS} s of playback, and stalls`, async () => {
    const page = await browser.newPage();
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM) }));
    const first = await waitPlaying(page, browser, SETTLE_SECONDS);
    await page.evaluate(() => (window as unknown as { hlsrelayDemo: { resetLatency(): void } }).hlsrelayDemo.resetLatency());
    const from = first.currentTime;
    const started = Date.now();
    // Every 10 s: still playing, and a progress line.
    while (Date.now() - started < SECONDS * 1000) {
      await sleep(Math.min(10_000, SECONDS * 1000 - (Date.now() - started)));
      const s = await snapshot(page);
      console.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s: playhead ${s.currentTime.toFixed(1)} s, latency ${s.shown.latency}, stalls ${s.stalls}`);
    }
    const samples = await page.evaluate(() => (window as unknown as { hlsrelayDemo: { latencySamples(): number[] } }).hlsrelayDemo.latencySamples());
    const s = await snapshot(page);
    await screenshot(page, "player-demo-latency");
    await page.close();

    const sum = summarize(samples);
    assert.ok(sum, "latency samples");
    const played = s.currentTime - from;
    results.latency = {
      window_seconds: SECONDS,
      frames: sum.count,
      median_s: sum.median,
      p95_s: sum.p95,
      min_s: sum.min,
      max_s: sum.max,
      stalls_after_first_frame: s.stalls,
      stalled_s: s.stalledMs / 1000,
      seeks_after_first_frame: s.seeks,
      played_s: played,
    };
    console.log(
      `glass-to-glass latency over ${SECONDS} s (${sum.count} frames): median ${sum.median.toFixed(3)} s, p95 ${sum.p95.toFixed(3)} s, ` +
        `min ${sum.min.toFixed(3)} s, max ${sum.max.toFixed(3)} s; stalls after the first frame: ${s.stalls} (${(s.stalledMs / 1000).toFixed(2)} s); seeks: ${s.seeks}`,
    );
    // Plays throughout (the playhead kept up with the wall clock) and never stalled.
    assert.ok(played > SECONDS - 2, `played ${played.toFixed(1)} s of media in ${SECONDS} s`);
    assert.ok(sum.count > SECONDS * 20, `${sum.count} frames presented in ${SECONDS} s`);
    assert.deepEqual(s.hlsFatal, []);
    assert.equal(s.stalls, 0, "no stall after the first frame in a clean run");
  });

  test(`time to first frame over ${LOADS} page loads`, async () => {
    const times: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const page = await browser.newPage();
      // Nothing from the previous loads: no HTTP cache, so no cached script either.
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.clearBrowserCache");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
      await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM) }));
      await until(async () => (await snapshot(page)).firstFrameMs !== null, 15_000, `the first frame of load ${i + 1}`);
      const s = await snapshot(page);
      assert.ok(s.firstFrameMs !== null && s.firstFrameMs > 0);
      assert.deepEqual(s.problems, []);
      times.push(s.firstFrameMs);
      await page.close();
    }
    const median = percentile(times, 50);
    results.first_frame = { loads: LOADS, median_ms: median, each_ms: times.map((t) => Math.round(t)) };
    console.log(`time to first frame over ${LOADS} loads (each with an empty cache): median ${ms(median)}; each: ${times.map(ms).join(", ")}`);
  });
});
