import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, secs] = process.argv.slice(2);
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
const page = ctx.pages()[0];
await page.goto(url);
await page.waitForFunction(() => window.hlsrelayDemo?.firstFrameMs != null, null, { timeout: 10000 });
await page.waitForTimeout(3000);
await page.evaluate(() => window.hlsrelayDemo.resetLatency());
const st0 = await page.evaluate(() => ({ stalls: window.hlsrelayDemo.stalls, seeks: window.hlsrelayDemo.seeks }));
for (let i = 0; i < Number(secs) / 10; i++) {
  await page.waitForTimeout(10000);
  console.log(JSON.stringify(await page.evaluate(() => { const d = window.hlsrelayDemo; const s = d.latencySummary(); const v = document.querySelector("video"); return { t: v.currentTime.toFixed(1), med: s.median.toFixed(3), p95: s.p95.toFixed(3), min: s.min.toFixed(3), max: s.max.toFixed(3), n: s.count, stalls: d.stalls, seeks: d.seeks, rate: v.playbackRate, q: v.getVideoPlaybackQuality().droppedVideoFrames }; })));
}
console.log("start", JSON.stringify(st0));
await ctx.close();
