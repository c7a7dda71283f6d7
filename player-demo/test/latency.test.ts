import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { percentile, summarize, type Summary } from "../src/stats";
import { demoUrl, launchBrowser, paneSnapshots, screenshot, snapshot, waitPlaying, type Browser } from "./helpers/browser";
import { PULL_SECRET, artifactsDir, signToken, sleep, startCmafPublisher, startPublisher, startRelay, until, type Proc, type Relay } from "./helpers/processes";

// Latency and time to first frame of the demo page in headless Chromium, in a clean run:
// one relay, the committed samples published in real time by bin/publish (MPEG-TS in 1 s
// fragments; fMP4 in 200 ms parts, 1 s fragments), the page served by the relay. The
// figures are printed (and written to test-artifacts/browser-latency.json), never
// compared with a target here; what is asserted is that the video plays throughout
// without a fatal error, that latencies were measured, and that the WebSocket modes
// with whole fragments and direct never stall.
//
// Definitions (docs/player-demo.md, docs/benchmarks.md), for each frame Chromium presents
// (its presentation time: requestVideoFrameCallback's expectedDisplayTime):
// - glass to glass: presentation time minus the frame's publish time (its fragment's
//   program date-time, plus the frame's offset into the fragment);
// - relay to screen: presentation time minus the time the relay received the part holding
//   the frame (the relay stamps parts: bin/publish -cmaf sends none), or the whole fragment
//   holding it (the MPEG-TS stream of (i) is published with -stamp relay, so the relay
//   stamps each fragment on receipt; its program date-time is then the relay's, and glass to
//   glass is measured on the capture-stamped stream over HTTP instead);
// - time to first frame: navigation start to the presentation of the first frame.
//
// The modes: (i) hls.js, whole fragments (the MPEG-TS stream, the SDK's hls mode); (ii)
// hls.js, LL-HLS parts (the fMP4 stream, the SDK's hls mode); (iii) direct: the fMP4
// stream's parts appended to MSE (the SDK's direct mode).
//
// PLAYER_LATENCY_SECONDS (default 60) is the measured window of each WebSocket mode,
// PLAYER_HLS_LATENCY_SECONDS (default 30) of the relay's HLS over HTTP, and
// PLAYER_FIRST_FRAME_LOADS (default 10) the number of page loads of each kind.

const STREAM = "bench/sample/640x360-30~400";
/** The same MPEG-TS sample, stamped by the relay on receipt (bin/publish -stamp relay). */
const RELAY_TIME_STREAM = "bench/sample-relaytime/640x360-30~400";
const PARTS_STREAM = "bench/sample-ll/640x360-30~400";
const SECONDS = Number(process.env.PLAYER_LATENCY_SECONDS ?? 60);
const HLS_SECONDS = Number(process.env.PLAYER_HLS_LATENCY_SECONDS ?? 30);
const LOADS = Number(process.env.PLAYER_FIRST_FRAME_LOADS ?? 10);
/** Playback before the measured window: startup and the player's catching up to its target. */
const SETTLE_SECONDS = 5;

let relay: Relay;
let publisher: Proc;
let relayTimePublisher: Proc;
let partsPublisher: Proc;
let browser: Browser;
const results: Record<string, unknown> = {};

/** Median, p95 and range of a set of per-frame latencies, in seconds. */
interface Figures {
  frames: number;
  median_s: number;
  p95_s: number;
  min_s: number;
  max_s: number;
}

interface LatencyResult {
  mode: string;
  transport: string;
  /** What the page says plays. */
  playing: string;
  window_seconds: number;
  /** Glass to glass (null where the page has no publish time: the direct mode). */
  glass_to_glass: Figures | null;
  /** Relay to screen (null where the page has no relay time: HLS over HTTP). */
  relay_to_screen: Figures | null;
  stalls_after_first_frame: number;
  stalled_s: number;
  seeks_after_first_frame: number;
  played_s: number;
  /** The direct mode's counters: parts appended, dropped, latency controller jumps, gap skips, nudges, stalls. */
  direct?: Record<string, number | null>;
}

type Mode = "fragments" | "parts" | "direct";

const LABELS: Record<Mode, string> = {
  fragments: "hls.js, whole fragments (MPEG-TS, 1 s)",
  parts: "hls.js, LL-HLS parts (fMP4, 200 ms parts)",
  direct: "direct: parts appended to MSE (fMP4, 200 ms parts)",
};

function figures(s: Summary | null): Figures | null {
  return s ? { frames: s.count, median_s: s.median, p95_s: s.p95, min_s: s.min, max_s: s.max } : null;
}

function pageUrl(mode: Mode, transport: "ws" | "hls" = "ws", relayTime = false): string {
  const stream = mode !== "fragments" ? PARTS_STREAM : relayTime ? RELAY_TIME_STREAM : STREAM;
  return demoUrl(`${relay.http}/demo/`, { stream, token: signToken(PULL_SECRET, "PULL", stream), mode, transport });
}

function line(f: Figures | null): string {
  return f ? `median ${f.median_s.toFixed(3)} s, p95 ${f.p95_s.toFixed(3)} s, min ${f.min_s.toFixed(3)} s, max ${f.max_s.toFixed(3)} s (${f.frames} frames)` : "none";
}

/**
 * Opens the page in `mode` on `transport`, lets it play SETTLE_SECONDS, then records every
 * frame's latencies for `seconds`; prints and returns the figures. Stalls and seeks count
 * from the first frame on.
 */
async function measure(mode: Mode, transport: "ws" | "hls", seconds: number, relayTime = false): Promise<LatencyResult> {
  const page = await browser.newPage();
  await page.goto(pageUrl(mode, transport, relayTime));
  const first = await waitPlaying(page, browser, SETTLE_SECONDS);
  await page.evaluate(() => (window as unknown as { hlsrelayDemo: { resetLatency(): void } }).hlsrelayDemo.resetLatency());
  const started = Date.now();
  const name = transport === "hls" ? `${mode} over HTTP` : mode;
  // Every 10 s: a progress line.
  while (Date.now() - started < seconds * 1000) {
    await sleep(Math.min(10_000, seconds * 1000 - (Date.now() - started)));
    const [p] = await paneSnapshots(page);
    console.log(
      `  ${name} ${((Date.now() - started) / 1000).toFixed(0)} s: playhead ${p?.currentTime.toFixed(1) ?? "?"} s, relay to screen ${p?.shown.relay ?? "?"}, stalls ${p?.stalls ?? "?"}`,
    );
  }
  const samples = await page.evaluate(() => {
    const d = (window as unknown as { hlsrelayDemo: { latencySamples(): number[]; relaySamples(): number[] } }).hlsrelayDemo;
    return { glass: d.latencySamples(), relay: d.relaySamples() };
  });
  const s = await snapshot(page);
  const [p] = await paneSnapshots(page);
  await screenshot(page, `player-demo-latency-${transport === "hls" ? "hls" : mode === "fragments" ? "ws" : mode}`);
  await page.close();
  assert.ok(p, "the page has a player");
  assert.deepEqual(s.hlsFatal, [], "no fatal hls.js error");
  assert.deepEqual(s.problems, []);
  const r: LatencyResult = {
    mode: LABELS[mode],
    transport: transport === "ws" ? "WebSocket (hlsrelay SDK)" : "HLS over HTTP (hls.js alone)",
    playing: p.playing,
    window_seconds: seconds,
    glass_to_glass: figures(summarize(samples.glass)),
    relay_to_screen: figures(summarize(samples.relay)),
    stalls_after_first_frame: s.stalls,
    stalled_s: s.stalledMs / 1000,
    seeks_after_first_frame: s.seeks,
    played_s: s.currentTime - first.currentTime,
  };
  if (p.direct) r.direct = p.direct;
  // With relay-stamped fragments the program date-time is the relay's receipt time, not
  // the capture time: no glass-to-glass figure then.
  if (relayTime) r.glass_to_glass = null;
  console.log(`${r.mode}, ${r.transport} (the page: ${r.playing}), over ${seconds} s:`);
  console.log(`  relay to screen: ${line(r.relay_to_screen)}`);
  console.log(`  glass to glass:  ${line(r.glass_to_glass)}`);
  console.log(
    `  stalls after the first frame: ${r.stalls_after_first_frame} (${r.stalled_s.toFixed(2)} s); seeks: ${r.seeks_after_first_frame}; played ${r.played_s.toFixed(1)} s` +
      (p.direct ? `; direct: ${JSON.stringify(p.direct)}` : ""),
  );
  return r;
}

/** Plays throughout: the playhead kept up with the wall clock, and frames were measured. */
function assertPlayed(r: LatencyResult, seconds: number, which: "glass" | "relay"): void {
  assert.ok(r.played_s > seconds - 2, `played ${r.played_s.toFixed(1)} s of media in ${seconds} s`);
  const f = which === "glass" ? r.glass_to_glass : r.relay_to_screen;
  assert.ok(f, `${which} latency samples`);
  assert.ok(f.frames > seconds * 20, `${f.frames} frames measured in ${seconds} s`);
}

/** Loads the page in `mode` `LOADS` times, each in a new tab, and returns each time to first frame. */
async function firstFrames(mode: Mode, emptyCache: boolean): Promise<number[]> {
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
    await page.goto(pageUrl(mode));
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

async function firstFrameFigures(mode: Mode): Promise<Record<string, unknown>> {
  const empty = await firstFrames(mode, true);
  const cached = await firstFrames(mode, false);
  console.log(`time to first frame, ${LABELS[mode]}, over ${LOADS} loads with an empty cache: median ${ms(percentile(empty, 50))}; each: ${empty.map(ms).join(", ")}`);
  console.log(`time to first frame, ${LABELS[mode]}, over ${LOADS} loads with the page cached: median ${ms(percentile(cached, 50))}; each: ${cached.map(ms).join(", ")}`);
  return {
    mode: LABELS[mode],
    loads: LOADS,
    empty_cache_median_ms: percentile(empty, 50),
    empty_cache_each_ms: empty.map((t) => Math.round(t)),
    cached_median_ms: percentile(cached, 50),
    cached_each_ms: cached.map((t) => Math.round(t)),
  };
}

describe("latency in the browser: whole fragments, LL-HLS parts, direct", { timeout: (3 * SECONDS + HLS_SECONDS + 4 * LOADS * 10 + 240) * 1000 }, () => {
  before(async () => {
    // Timing figures depend on what else runs: say so with them.
    results.machine = { cores: os.cpus().length, load_average_at_start: os.loadavg().map((l) => Number(l.toFixed(2))) };
    console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} at the start`);
    relay = await startRelay();
    publisher = await startPublisher(relay, STREAM);
    relayTimePublisher = await startPublisher(relay, RELAY_TIME_STREAM, relay.url, ["-stamp", "relay"]);
    partsPublisher = await startCmafPublisher(relay, PARTS_STREAM);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await partsPublisher?.stop();
    await relayTimePublisher?.stop();
    await publisher?.stop();
    await relay?.stop();
    results.load_average_at_end = os.loadavg().map((l) => Number(l.toFixed(2)));
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(path.join(artifactsDir, "browser-latency.json"), JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2) + "\n");
  });

  test(`(i) hls.js, whole fragments: latency over ${SECONDS} s through the WebSocket, and stalls`, async () => {
    const r = await measure("fragments", "ws", SECONDS, true);
    // Relay-stamped: glass to glass is measured over HTTP on the capture-stamped stream.
    results.latency = r;
    assertPlayed(r, SECONDS, "relay");
    assert.equal(r.stalls_after_first_frame, 0, "no stall after the first frame in a clean run");
  });

  test(`hls.js, whole fragments: latency over ${HLS_SECONDS} s through HLS over HTTP`, async () => {
    const r = await measure("fragments", "hls", HLS_SECONDS);
    results.latency_hls_over_http = r;
    assert.ok(r.played_s > HLS_SECONDS - 2, `played ${r.played_s.toFixed(1)} s of media in ${HLS_SECONDS} s`);
  });

  test(`time to first frame over ${LOADS} page loads (hls.js, whole fragments)`, async () => {
    results.first_frame = await firstFrameFigures("fragments");
  });

  test(`(ii) hls.js, LL-HLS parts: latency over ${SECONDS} s, and stalls`, async () => {
    const r = await measure("parts", "ws", SECONDS);
    results.latency_parts = r;
    assert.equal(r.playing, "hls.js, LL-HLS parts");
    assertPlayed(r, SECONDS, "relay");
  });

  test(`(iii) direct, parts appended to MSE: latency over ${SECONDS} s, and stalls`, async () => {
    const r = await measure("direct", "ws", SECONDS);
    results.latency_direct = r;
    assert.equal(r.playing, "direct (MSE parts)");
    assertPlayed(r, SECONDS, "relay");
    assert.equal(r.stalls_after_first_frame, 0, "no stall after the first frame in a clean run");
  });

  test(`time to first frame over ${LOADS} page loads (direct)`, async () => {
    results.first_frame_direct = await firstFrameFigures("direct");
  });
});
