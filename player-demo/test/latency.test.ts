import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
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
// PLAYER_LATENCY_SECONDS (default 60) is the measured window over the WebSocket,
// PLAYER_HLS_LATENCY_SECONDS (default 30) over the relay's HLS over HTTP, and
// PLAYER_FIRST_FRAME_LOADS (default 10) the number of page loads.

const STREAM = "bench/sample/640x360-30~400";
const SECONDS = Number(process.env.PLAYER_LATENCY_SECONDS ?? 60);
const HLS_SECONDS = Number(process.env.PLAYER_HLS_LATENCY_SECONDS ?? 30);
const LOADS = Number(process.env.PLAYER_FIRST_FRAME_LOADS ?? 10);
/** Playback before the measured window: startup and hls.js's catching up to its target. */
const SETTLE_SECONDS = 5;

let relay: Relay;
let publisher: Proc;
let browser: Browser;
const results: Record<string, unknown> = {};

interface LatencyResult {
  transport: string;
  window_seconds: number;
  frames: number;
  median_s: number;
  p95_s: number;
  min_s: number;
  max_s: number;
  stalls_after_first_frame: number;
  stalled_s: number;
  seeks_after_first_frame: number;
  played_s: number;
}

/**
 * Opens the page on `transport`, lets it play SETTLE_SECONDS, then records every frame's
 * latency for `seconds`; prints and returns the figures. Stalls and seeks count from the
 * first frame on.
 */
async function measure(transport: "ws" | "hls", seconds: number): Promise<LatencyResult> {
  const page = await browser.newPage();
  await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM), transport }));
  const first = await waitPlaying(page, browser, SETTLE_SECONDS);
  await page.evaluate(() => (window as unknown as { hlsrelayDemo: { resetLatency(): void } }).hlsrelayDemo.resetLatency());
  const started = Date.now();
  // Every 10 s: a progress line.
  while (Date.now() - started < seconds * 1000) {
    await sleep(Math.min(10_000, seconds * 1000 - (Date.now() - started)));
    const s = await snapshot(page);
    console.log(`  ${transport} ${((Date.now() - started) / 1000).toFixed(0)} s: playhead ${s.currentTime.toFixed(1)} s, latency ${s.shown.latency}, stalls ${s.stalls}`);
  }
  const samples = await page.evaluate(() => (window as unknown as { hlsrelayDemo: { latencySamples(): number[] } }).hlsrelayDemo.latencySamples());
  const s = await snapshot(page);
  await screenshot(page, `player-demo-latency-${transport}`);
  await page.close();
  assert.deepEqual(s.hlsFatal, [], "no fatal hls.js error");
  assert.deepEqual(s.problems, []);
  const sum = summarize(samples);
  assert.ok(sum, "latency samples");
  const r: LatencyResult = {
    transport: transport === "ws" ? "WebSocket (hlsrelay SDK loaders)" : "HLS over HTTP (hls.js alone)",
    window_seconds: seconds,
    frames: sum.count,
    median_s: sum.median,
    p95_s: sum.p95,
    min_s: sum.min,
    max_s: sum.max,
    stalls_after_first_frame: s.stalls,
    stalled_s: s.stalledMs / 1000,
    seeks_after_first_frame: s.seeks,
    played_s: s.currentTime - first.currentTime,
  };
  console.log(
    `glass-to-glass latency, ${r.transport}, over ${seconds} s (${sum.count} frames): median ${sum.median.toFixed(3)} s, p95 ${sum.p95.toFixed(3)} s, ` +
      `min ${sum.min.toFixed(3)} s, max ${sum.max.toFixed(3)} s; stalls after the first frame: ${s.stalls} (${(s.stalledMs / 1000).toFixed(2)} s); seeks: ${s.seeks}`,
  );
  return r;
}

/** Loads the page `LOADS` times, each in a new tab, and returns each time to first frame. */
async function firstFrames(emptyCache: boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const page = await browser.newPage();
    if (emptyCache) {
      // Nothing from the previous loads: no HTTP cache, so no cached script either.
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.clearBrowserCache");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    }
    await page.goto(demoUrl(`${relay.http}/demo/`, { stream: STREAM, token: signToken(PULL_SECRET, "PULL", STREAM) }));
    await until(async () => (await snapshot(page)).firstFrameMs !== null, 15_000, `the first frame of load ${i + 1}`);
    const s = await snapshot(page);
    assert.ok(s.firstFrameMs !== null && s.firstFrameMs > 0);
    assert.deepEqual(s.problems, []);
    times.push(s.firstFrameMs);
    await page.close();
  }
  return times;
}

function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? "?" : `${Math.round(v)} ms`;
}

describe("latency in the browser (1 s fragments)", { timeout: (SECONDS + LOADS * 10 + 120) * 1000 }, () => {
  before(async () => {
    // Timing figures depend on what else runs: say so with them.
    results.machine = { cores: os.cpus().length, load_average_at_start: os.loadavg().map((l) => Number(l.toFixed(2))) };
    console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} at the start`);
    relay = await startRelay();
    publisher = await startPublisher(relay, STREAM);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await publisher?.stop();
    await relay?.stop();
    results.load_average_at_end = os.loadavg().map((l) => Number(l.toFixed(2)));
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(path.join(artifactsDir, "browser-latency.json"), JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2) + "\n");
  });

  test(`glass to glass over ${SECONDS} s of playback through the WebSocket, and stalls`, async () => {
    const r = await measure("ws", SECONDS);
    results.latency = r;
    // Plays throughout (the playhead kept up with the wall clock) and never stalled.
    assert.ok(r.played_s > SECONDS - 2, `played ${r.played_s.toFixed(1)} s of media in ${SECONDS} s`);
    assert.ok(r.frames > SECONDS * 20, `${r.frames} frames presented in ${SECONDS} s`);
    assert.equal(r.stalls_after_first_frame, 0, "no stall after the first frame in a clean run");
  });

  test(`glass to glass over ${HLS_SECONDS} s of playback through HLS over HTTP`, async () => {
    const r = await measure("hls", HLS_SECONDS);
    results.latency_hls_over_http = r;
    assert.ok(r.played_s > HLS_SECONDS - 2, `played ${r.played_s.toFixed(1)} s of media in ${HLS_SECONDS} s`);
  });

  test(`time to first frame over ${LOADS} page loads`, async () => {
    const empty = await firstFrames(true);
    const cached = await firstFrames(false);
    results.first_frame = {
      loads: LOADS,
      empty_cache_median_ms: percentile(empty, 50),
      empty_cache_each_ms: empty.map((t) => Math.round(t)),
      cached_median_ms: percentile(cached, 50),
      cached_each_ms: cached.map((t) => Math.round(t)),
    };
    console.log(`time to first frame over ${LOADS} loads with an empty cache: median ${ms(percentile(empty, 50))}; each: ${empty.map(ms).join(", ")}`);
    console.log(`time to first frame over ${LOADS} loads with the page cached: median ${ms(percentile(cached, 50))}; each: ${cached.map(ms).join(", ")}`);
  });
});
