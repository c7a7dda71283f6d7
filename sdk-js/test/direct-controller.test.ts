import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LatencyController, type ControlledMedia, type LatencyControllerOptions } from "../src/direct/controller";
import { rangeAt } from "../src/direct/ranges";
import { Ranges } from "./helpers/direct-media";

// The latency controller against a simulated live stream: parts of `part` seconds are
// appended as they "arrive" (a fake clock), the playhead advances at playbackRate through
// buffered media only, and the controller ticks every 100 ms.

class SimMedia implements ControlledMedia {
  currentTime = 0;
  playbackRate = 1;
  paused = false;
  seeking = false;
  buffered = new Ranges();
  /** The decoder is stuck: the playhead does not move even with media ahead. */
  frozen = false;
  seeks: number[] = [];

  advance(dt: number): void {
    if (this.paused || this.frozen) return;
    const r = rangeAt(this.buffered, this.currentTime);
    if (!r) return;
    this.currentTime = Math.min(this.currentTime + dt * this.playbackRate, r.end);
  }
}

/** A SimMedia whose currentTime assignments by the controller are recorded. */
function media(): SimMedia {
  const m = new SimMedia();
  let t = 0;
  Object.defineProperty(m, "currentTime", {
    get: () => t,
    set: (v: number) => {
      if (Math.abs(v - t) > 0.011) m.seeks.push(v);
      t = v;
    },
  });
  return m;
}

interface Sim {
  m: SimMedia;
  c: LatencyController;
  /** Clock, ms. */
  now: number;
  /** Media time of the newest part appended. */
  edge: number;
  rates: number[];
  behind: Array<{ at: number; behind: number }>;
}

/**
 * Runs `ms` of simulated time: a part of `part` s arrives every `part` s (unless `hold`
 * says the network holds it back, then the held parts arrive at once), the playhead
 * advances in 10 ms steps, the controller ticks every 100 ms.
 */
function run(sim: Sim, ms: number, part = 0.2, hold: (now: number) => boolean = () => false): void {
  const end = sim.now + ms;
  while (sim.now < end) {
    sim.now += 10;
    // Media up to the wall clock exists; it arrives in whole parts.
    const due = Math.floor((sim.now / 1000 + 0.5) / part) * part;
    while (!hold(sim.now) && sim.edge + part <= due + 1e-9) {
      sim.m.buffered.add(sim.edge, sim.edge + part);
      sim.edge += part;
      sim.c.observePart(part);
    }
    sim.m.advance(0.01);
    if (sim.now % 100 === 0) {
      sim.c.tick(sim.now);
      sim.rates.push(sim.m.playbackRate);
      sim.behind.push({ at: sim.now, behind: sim.edge - sim.m.currentTime });
    }
  }
}

/** A stream 0.5 s old with `backlog` s received, the playhead at the oldest. */
function start(backlog: number, opts: LatencyControllerOptions = {}): Sim {
  const m = media();
  const c = new LatencyController(m, opts);
  const sim: Sim = { m, c, now: 0, edge: 0, rates: [], behind: [] };
  // Media until now (0.5 s of stream + backlog before it).
  sim.now = Math.round(backlog * 1000);
  const due = Math.floor((sim.now / 1000 + 0.5) / 0.2) * 0.2;
  while (sim.edge + 0.2 <= due + 1e-9) {
    m.buffered.add(sim.edge, sim.edge + 0.2);
    sim.edge += 0.2;
    c.observePart(0.2);
  }
  c.reset(sim.now);
  return sim;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

describe("direct mode: latency controller", () => {
  test("defaults follow the part duration; options win", () => {
    const c = new LatencyController(media());
    assert.equal(c.partDuration, 0.2);
    assert.equal(c.targetBuffer, 0.25);
    assert.equal(c.maxBehind, 0.75);
    c.observePart(0.5);
    c.observePart(0.3);
    assert.equal(c.partDuration, 0.5, "the longest of the last parts");
    assert.equal(c.targetBuffer, 0.625);
    assert.equal(c.maxBehind, 1.125);
    const d = new LatencyController(media(), { targetBuffer: 0.4, maxBehind: 2 });
    d.observePart(0.5);
    assert.equal(d.targetBuffer, 0.4);
    assert.equal(d.maxBehind, 2);
  });

  test("catches up from 0.6 s behind with gentle rates, then holds the target without hunting", () => {
    const sim = start(0.2);
    assert.ok(Math.abs(sim.edge - sim.m.currentTime - 0.6) < 1e-9, `starts ${sim.edge - sim.m.currentTime} s behind`);
    run(sim, 30_000);
    assert.equal(sim.c.stats.jumps, 0, "no seek: 0.6 s is within maxBehind");
    assert.ok(Math.min(...sim.rates) >= 0.95 && Math.max(...sim.rates) <= 1.1, "rates within 0.95..1.1");
    assert.ok(sim.rates.slice(0, 20).every((r) => r > 1), "speeds up at first");
    const last = sim.behind.filter((b) => b.at > sim.now - 10_000).map((b) => b.behind);
    const avg = mean(last);
    assert.ok(Math.abs(avg - 0.25) <= 0.1, `holds ~0.25 s behind the newest media: ${avg.toFixed(3)}`);
    assert.ok(Math.min(...last) > 0.05, "never runs dry");
    const tail = sim.rates.slice(-100);
    let changes = 0;
    for (let i = 1; i < tail.length; i++) if (tail[i] !== tail[i - 1]) changes++;
    assert.ok(changes <= 4, `settled: ${changes} rate changes in the last 10 s`);
    assert.equal(sim.m.playbackRate, 1);
    assert.equal(sim.c.stats.stalls, 0);
  });

  test("jumps to live when it stays more than maxBehind behind", () => {
    const sim = start(3);
    run(sim, 500);
    assert.equal(sim.c.stats.jumps, 0, "not before a whole window");
    run(sim, 1000);
    assert.equal(sim.c.stats.jumps, 1);
    const behind = sim.edge - sim.m.currentTime;
    assert.ok(behind <= 0.5, `${behind.toFixed(2)} s behind after the jump`);
    run(sim, 10_000);
    assert.equal(sim.c.stats.jumps, 1, "once");
  });

  test("a network hiccup (0.4 s without parts, then a burst) stalls briefly but does not seek", () => {
    const sim = start(0);
    run(sim, 10_000);
    const t0 = sim.now;
    run(sim, 3000, 0.2, (now) => now > t0 + 500 && now < t0 + 900);
    assert.equal(sim.c.stats.jumps, 0);
    run(sim, 15_000);
    const avg = mean(sim.behind.filter((b) => b.at > sim.now - 5000).map((b) => b.behind));
    assert.ok(Math.abs(avg - 0.25) <= 0.1, `back to the target: ${avg.toFixed(3)}`);
  });

  test("a longer outage (1.5 s): the stall ends with a seek to live, not seconds of catching up", () => {
    const sim = start(0);
    run(sim, 10_000);
    const t0 = sim.now;
    run(sim, 1800, 0.2, (now) => now > t0 + 200 && now < t0 + 1700);
    assert.equal(sim.c.stats.stalls, 1);
    assert.equal(sim.c.stats.jumps, 1);
    const behind = sim.edge - sim.m.currentTime;
    assert.ok(behind < 0.5, `${behind.toFixed(2)} s behind right after the outage`);
  });

  test("hysteresis: within ±tolerance rate 1; outside, proportional until within a third of it", () => {
    const m = media();
    const c = new LatencyController(m);
    let now = 0;
    // Holds the playhead `behind` s behind the end of the media for 2 s (two windows).
    const hold = (behind: number): number => {
      for (let i = 0; i < 20; i++) {
        now += 100;
        const end = 50 + now / 1000;
        m.buffered = Ranges.of([0, end]);
        m.currentTime = end - behind;
        c.tick(now);
      }
      return m.playbackRate;
    };
    assert.equal(hold(0.32), 1, "0.07 s over: within tolerance");
    assert.equal(hold(0.18), 1, "0.07 s under: within tolerance");
    assert.equal(hold(0.41), 1.08, "0.16 s over: 1 + 0.5 × 0.16");
    assert.equal(hold(0.31), 1.03, "0.06 s over: still adjusting (exit below 0.033)");
    assert.equal(hold(0.27), 1, "0.02 s: back to 1");
    assert.equal(hold(0.1), 0.95, "0.15 s under: slows down, clamped");
    assert.equal(hold(1.0), 1.1, "0.75 s over: clamped to 1.1");
  });

  test("less than 30 % of the target ahead: minRate at once", () => {
    const m = media();
    const c = new LatencyController(m);
    m.buffered = Ranges.of([0, 10]);
    m.currentTime = 9.96;
    c.tick(100);
    assert.equal(m.playbackRate, 0.95);
  });

  test("gaps: skips to the next range when the playhead reaches the end of its range", () => {
    const m = media();
    const c = new LatencyController(m, { targetBuffer: 0.25 });
    m.buffered = Ranges.of([0, 5], [5.5, 7], [8, 10]);
    m.currentTime = 4.5;
    assert.notEqual(c.tick(100), "skip", "0.5 s before the gap");
    m.currentTime = 4.95;
    assert.equal(c.tick(200), "skip");
    assert.equal(m.currentTime, 5.5, "into the next range");
    m.currentTime = 6.95;
    assert.equal(c.tick(300), "skip");
    assert.equal(m.currentTime, 9.75, "the last range: to live");
    assert.equal(c.stats.gapSkips, 2);
  });

  test("a playhead outside the media (before it, or in a gap) seeks into it; at its end it waits", () => {
    const m = media();
    const c = new LatencyController(m);
    m.buffered = Ranges.of([10, 12], [20, 21]);
    m.currentTime = 3;
    assert.equal(c.tick(100), "skip");
    assert.equal(m.currentTime, 10);
    m.currentTime = 15;
    assert.equal(c.tick(200), "skip");
    assert.equal(m.currentTime, 20.75);
    m.currentTime = 21;
    assert.equal(c.tick(300), "wait");
    assert.equal(m.currentTime, 21);
  });

  test("stalled with media ahead: nudged forward after 300 ms without progress (900 ms after a seek), three times in a row at most", () => {
    const m = media();
    const c = new LatencyController(m);
    m.buffered = Ranges.of([0, 5.9]); // less than maxBehind ahead: no jump
    m.currentTime = 5;
    c.reset(0);
    c.onWaiting();
    assert.notEqual(c.tick(100), "nudge", "waiting alone does not nudge");
    assert.notEqual(c.tick(800), "nudge", "not moved since the seek: 900 ms");
    assert.equal(c.tick(950), "nudge");
    assert.ok(Math.abs(m.currentTime - 5.1) < 1e-9);
    m.currentTime = 5.2; // it plays, then stops
    c.tick(1000);
    assert.notEqual(c.tick(1200), "nudge");
    assert.equal(c.tick(1300), "nudge", "300 ms without progress");
    assert.ok(Math.abs(m.currentTime - 5.3) < 1e-9);
    assert.equal(c.tick(1600), "nudge");
    assert.ok(Math.abs(m.currentTime - 5.5) < 1e-9, "a longer step");
    assert.equal(c.tick(1900), "nudge");
    assert.notEqual(c.tick(2200), "nudge", "gave up");
    assert.equal(c.stats.nudges, 4);
    assert.equal(c.stats.stalls, 2);
  });

  test("waiting at the end of a range with another after it: skips the gap at once", () => {
    const m = media();
    const c = new LatencyController(m);
    m.buffered = Ranges.of([0, 5], [5.3, 8], [9, 12]);
    m.currentTime = 4.8;
    c.reset(0);
    assert.notEqual(c.tick(100), "skip");
    c.onWaiting();
    assert.equal(c.tick(150), "skip");
    assert.equal(m.currentTime, 5.3);
  });

  test("startup: a lag beyond target + two parts is cut by a seek within the first seconds", () => {
    // 0.7 s behind: more than target + two parts (0.65), less than maxBehind (0.75).
    const m = media();
    const c = new LatencyController(m);
    m.buffered = Ranges.of([0, 1]);
    m.currentTime = 0.3;
    c.start(0);
    let now = 0;
    const step = (): string => {
      now += 100;
      m.currentTime += 0.1;
      m.buffered = Ranges.of([0, 1 + now / 1000]);
      return c.tick(now);
    };
    const actions: string[] = [];
    for (let i = 0; i < 10; i++) actions.push(step());
    assert.equal(c.stats.jumps, 1, actions.join(" "));
    assert.ok(actions.indexOf("jump") <= 6, "within about half a window");
    assert.ok(m.buffered.end(0) - m.currentTime <= 0.3);

    // The same lag later on is caught up by rate.
    const m2 = media();
    const c2 = new LatencyController(m2);
    c2.start(0);
    m2.buffered = Ranges.of([0, 100]);
    m2.currentTime = 99.3;
    let t = 5000;
    for (let i = 0; i < 20; i++) {
      t += 100;
      m2.currentTime += 0.1;
      m2.buffered = Ranges.of([0, 100 + (t - 5000) / 1000]);
      c2.tick(t);
    }
    assert.equal(c2.stats.jumps, 0);
    assert.equal(m2.playbackRate, 1.1);
  });

  test("stalled at the end of the media: waits (nothing to nudge into)", () => {
    const m = media();
    const c = new LatencyController(m);
    m.buffered = Ranges.of([0, 10]);
    m.currentTime = 9.97;
    c.reset(0);
    assert.equal(c.tick(1000), "wait");
    assert.equal(m.currentTime, 9.97);
    assert.equal(m.playbackRate, 0.95, "and slows down");
  });

  test("paused or seeking: nothing is changed", () => {
    const m = media();
    const c = new LatencyController(m);
    m.buffered = Ranges.of([0, 10]);
    m.currentTime = 1;
    m.seeks = [];
    m.paused = true;
    assert.equal(c.tick(100), "idle");
    m.paused = false;
    m.seeking = true;
    assert.equal(c.tick(200), "idle");
    assert.equal(m.currentTime, 1);
    assert.equal(m.playbackRate, 1);
    assert.deepEqual(m.seeks, []);
  });

  test("no media yet: idle", () => {
    const m = media();
    const c = new LatencyController(m);
    assert.equal(c.tick(100), "idle");
  });
});
