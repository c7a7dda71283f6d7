import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser, screenshot, waitPlaying, type Browser } from "./helpers/browser";
import { Proc, bin, jsonLines, until } from "./helpers/processes";

// (b) The demo page against the local cluster of bin/cluster: a real redis-server,
// publisher-1 and publisher-2 announcing their streams in the registry, relay-1 finding
// streams there, relay-2 chained behind relay-1. bin/publish sends the sample to
// publisher-1; the page, served by relay-1 (and relay-2), plays it from there.

const STREAM = "demo/sample/640x360-30~400";

let cluster: Proc;
let dir: string;
let browser: Browser;
let urls: string[] = [];

function log(name: string): string {
  try {
    return readFileSync(path.join(dir, `${name}.log`), "utf8");
  } catch {
    return "";
  }
}

/** The URL of a node's WebSocket, from bin/cluster's summary. */
function nodeUrl(name: string): string {
  const m = new RegExp(`^\\s*${name}\\s+(ws://\\S+)`, "m").exec(cluster.output);
  if (!m?.[1]) throw new Error(`no ${name} in bin/cluster's output:\n${cluster.output}`);
  return m[1];
}

describe("the demo page on a cluster (bin/cluster)", { timeout: 180_000 }, () => {
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "hlsrelay-cluster-e2e-"));
    cluster = Proc.start("cluster", bin("cluster"), ["-base-port", "0", "-dir", dir, "-bin", bin("hlsrelay")]);
    await until(() => cluster.output.includes("Ctrl-C stops the cluster") || !cluster.running, 60_000, "bin/cluster to start");
    assert.ok(cluster.running, `bin/cluster exited:\n${cluster.output}`);
    urls = [...cluster.output.matchAll(/^\s+(http:\/\/127\.0\.0\.1:\d+\/demo\/\?\S+)$/gm)].map((m) => m[1] ?? "");
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (cluster) {
      await cluster.stop("SIGINT", 20_000);
      console.log(`bin/cluster exited with ${String(cluster.code)}`);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("bin/cluster prints the demo page of relay-1 and relay-2 with a token", () => {
    assert.equal(urls.length, 2, cluster.output);
    for (const [i, name] of ["relay-1", "relay-2"].entries()) {
      const u = new URL(urls[i] ?? "");
      assert.equal(`ws://${u.host}/`, nodeUrl(name), `the ${name} line`);
      assert.equal(u.searchParams.get("stream"), STREAM);
      assert.match(u.searchParams.get("token") ?? "", /^[\w-]+\.[\w-]+\.[\w-]+$/);
    }
  });

  test("(b) relay-1 pulls the stream from publisher-1 through the registry, and the page plays it", async () => {
    const page = await browser.newPage();
    await page.goto(urls[0] ?? "");
    const s = await waitPlaying(page, browser, 3, { timeoutMs: 30_000 });
    assert.equal(s.videoWidth, 640);
    assert.deepEqual(s.hlsFatal, []);
    assert.deepEqual(s.problems, []);
    const publisher1 = nodeUrl("publisher-1");
    const relayed = jsonLines(log("relay-1"), (l) => l.message === "relaying from upstream" && l.stream === STREAM);
    assert.deepEqual(
      relayed.map((l) => l.upstream),
      [publisher1],
      "relay-1 found the stream in the registry and pulls it from publisher-1, once",
    );
    await screenshot(page, "player-demo-cluster");
    await page.close();
  });

  test("relay-2 pulls it through relay-1, and the page plays it there too", async () => {
    const page = await browser.newPage();
    await page.goto(urls[1] ?? "");
    const s = await waitPlaying(page, browser, 3, { timeoutMs: 30_000 });
    assert.deepEqual(s.hlsFatal, []);
    assert.deepEqual(s.problems, []);
    const relayed = jsonLines(log("relay-2"), (l) => l.message === "relaying from upstream" && l.stream === STREAM);
    assert.deepEqual(relayed.map((l) => l.upstream), [nodeUrl("relay-1")]);
    await page.close();
  });
});
