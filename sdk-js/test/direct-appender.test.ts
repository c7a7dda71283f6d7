import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MseAppender } from "../src/direct/appender";
import { parseInit } from "../src/direct/mp4";
import { PartTimeline, type PartSpan } from "../src/direct/timeline";
import { eventually, FakeSourceBuffer, fixture, own, shiftPart, splitFmp4 } from "./helpers/direct-media";

const { init, parts } = splitFmp4(fixture("avc-aac.mp4"));
const info = parseInit(init);
if (!info) throw new Error("fixture init");

/** Part `i` of the fixture moved `seconds` later. */
function part(i: number, seconds = 0): ArrayBuffer {
  const p = parts[i % parts.length];
  if (!p) throw new Error(`no part ${i}`);
  return own(shiftPart(p, info as NonNullable<typeof info>, seconds + Math.floor(i / parts.length) * 2));
}

function setup(opts: { playhead?: () => number; backBuffer?: number } = {}) {
  const sb = new FakeSourceBuffer(info?.mimeType ?? "");
  const events: string[] = [];
  const a = new MseAppender(
    sb,
    {
      playhead: opts.playhead ?? (() => 0),
      onFatal: (e) => events.push(`fatal ${e.message}`),
      onDropped: (n) => events.push(`dropped ${n}`),
    },
    { backBuffer: opts.backBuffer },
  );
  return { sb, a, events };
}

describe("direct mode: appender", () => {
  test("segments mode; appends run one at a time, in order; done gets the buffered ranges", async () => {
    const { sb, a } = setup();
    assert.equal(sb.mode, "segments");
    const seen: string[] = [];
    a.append(own(init));
    for (let i = 0; i < 3; i++) a.append(part(i), (r) => seen.push(r.map((x) => `${x.start.toFixed(1)}-${x.end.toFixed(1)}`).join(",")));
    assert.equal(a.idle, false);
    assert.ok(a.queuedBytes > 0);
    await eventually(() => a.idle, "the queue to drain");
    assert.deepEqual(sb.log, ["init", "part 0.00", "part 0.20", "part 0.40"]);
    assert.deepEqual(seen, ["0.0-0.2", "0.0-0.4", "0.0-0.6"]);
    assert.equal(a.queuedBytes, 0);
  });

  test("media more than backBuffer behind the playhead is removed, in steps of a second or more", async () => {
    let playhead = 0;
    const { sb, a } = setup({ playhead: () => playhead, backBuffer: 2 });
    a.append(own(init));
    for (let i = 0; i < 20; i++) {
      a.append(part(i));
      playhead = Math.max(0, i * 0.2 - 0.3);
    }
    await eventually(() => a.idle, "the queue to drain");
    const removes = sb.log.filter((l) => l.startsWith("remove"));
    assert.ok(removes.length >= 1, "removed");
    const first = sb.ranges.list[0];
    assert.ok(first && first[0] >= playhead - 2 - 1.01, `kept from ${first?.[0]}, playhead ${playhead}`);
    assert.ok(first && first[0] <= playhead - 2 + 1e-9, "kept backBuffer");
  });

  test("QuotaExceededError: removes media behind the playhead and appends again; if that does not help, drops", async () => {
    let playhead = 0;
    const { sb, a, events } = setup({ playhead: () => playhead, backBuffer: 100 });
    sb.quotaSeconds = 2;
    a.append(own(init));
    for (let i = 0; i < 10; i++) a.append(part(i));
    await eventually(() => a.idle, "the queue to drain");
    assert.deepEqual(events, [], "2 s fit");
    playhead = 1.5;
    a.append(part(10));
    await eventually(() => a.idle, "the append after the quota error");
    assert.ok(sb.log.includes("remove 0.00 0.50"), sb.log.join("; "));
    assert.equal(sb.log[sb.log.length - 1], "part 2.00", "appended after the removal");
    assert.deepEqual(events, []);

    playhead = 0; // nothing behind the playhead to remove
    sb.quotaSeconds = 0.1;
    a.append(part(11));
    a.append(part(12));
    await eventually(() => events.length === 2, "the drops");
    assert.match(events[0] ?? "", /^dropped \d+$/);
    assert.equal(a.idle, true, "the queue goes on");
  });

  test("a SourceBuffer error is fatal: the queue stops", async () => {
    const { sb, a, events } = setup();
    a.append(own(init));
    sb.failNext = false;
    a.append(part(0));
    await eventually(() => a.idle, "the first part");
    sb.failNext = true;
    a.append(part(1));
    a.append(part(2));
    await eventually(() => events.length > 0, "the error");
    assert.match(events[0] ?? "", /^fatal /);
    assert.equal(sb.log.filter((l) => l.startsWith("part")).length, 1, "nothing appended after it");
  });

  test("removeAll, changeType, dropQueuedAppends", async () => {
    const { sb, a } = setup();
    a.append(own(init));
    a.append(part(0));
    a.append(part(1));
    await eventually(() => a.idle, "appends");
    a.removeAll();
    assert.equal(a.changeType('video/mp4; codecs="hvc1.1.6.L30.90"'), true);
    a.append(part(2));
    a.append(part(3));
    a.append(part(4));
    assert.ok(a.dropQueuedAppends() >= 2);
    await eventually(() => a.idle, "the rest");
    assert.ok(sb.log.includes("remove 0.00 0.40"), sb.log.join("; "));
    assert.ok(sb.log.includes('changeType video/mp4; codecs="hvc1.1.6.L30.90"'));
    a.destroy();
    a.append(part(5));
    assert.equal(a.idle, true, "nothing runs after destroy");
    assert.equal(sb.listeners("updateend"), 0);
  });
});

describe("direct mode: part timeline", () => {
  const span = (start: number, end: number, seq = 0, index = 0): PartSpan => ({ start, end, seq, index, epoch: "E", time: 1000 + start * 1000, receivedAt: 0 });

  test("looks up the part holding a media time", () => {
    const t = new PartTimeline();
    for (let i = 0; i < 10; i++) t.add(span(i * 0.2, (i + 1) * 0.2, 0, i));
    assert.equal(t.at(0)?.index, 0);
    assert.equal(t.at(0.19)?.index, 0);
    assert.equal(t.at(0.2)?.index, 1);
    assert.equal(t.at(1.99)?.index, 9);
    assert.equal(t.at(2), undefined);
    assert.equal(t.at(-1), undefined);
    assert.equal(t.newest()?.index, 9);
  });

  test("a span replaces what it overlaps; empty spans are ignored; gaps hold nothing", () => {
    const t = new PartTimeline();
    t.add(span(0, 1, 1));
    t.add(span(2, 3, 2));
    t.add(span(0.5, 2.5, 3));
    assert.equal(t.size, 1);
    assert.equal(t.at(0.1), undefined);
    assert.equal(t.at(1)?.seq, 3);
    t.add(span(5, 5));
    assert.equal(t.size, 1);
    t.add(span(3, 4, 4));
    t.add(span(0, 0.5, 5));
    assert.deepEqual([t.at(0.2)?.seq, t.at(1)?.seq, t.at(2.7), t.at(3.5)?.seq], [5, 3, undefined, 4]);
  });

  test("bounded, and pruned behind the playhead", () => {
    const t = new PartTimeline(50);
    for (let i = 0; i < 200; i++) t.add(span(i, i + 1));
    assert.equal(t.size, 50);
    assert.equal(t.at(100), undefined, "the oldest went first");
    t.pruneBefore(180);
    assert.equal(t.size, 20);
    assert.equal(t.at(180)?.start, 180);
    t.pruneBefore(1000);
    assert.equal(t.size, 0);
  });
});
