import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, out, secs] = process.argv.slice(2);
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1280, height: 860 },
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
const page = ctx.pages()[0] ?? await ctx.newPage();
page.on("console", (m) => console.log("console:", m.type(), m.text()));
page.on("pageerror", (e) => console.log("pageerror:", e.message));
await page.goto(url);
for (let i = 0; i < Number(secs || 8); i++) {
  await page.waitForTimeout(1000);
  console.log(JSON.stringify(await page.evaluate(() => { const d = window.hlsrelayDemo; const v = document.querySelector("video"); const s = d.latencySummary(); return { t: v.currentTime.toFixed(2), w: v.videoWidth, st: d.state, ff: d.firstFrameMs, stalls: d.stalls, seeks: d.seeks, frags: d.fragments, med: s?.median?.toFixed(3), p95: s?.p95?.toFixed(3), n: s?.count, probs: d.problems.map(p=>p.code), fatal: d.hlsFatal.length }; })));
}
await page.screenshot({ path: out });
await ctx.close();
