import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, n] = process.argv.slice(2);
for (let i = 0; i < Number(n || 1); i++) {
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
  const page = ctx.pages()[0];
  await page.goto(url);
  await page.waitForTimeout(2500);
  console.log(JSON.stringify(await page.evaluate(() => { const nav = performance.getEntriesByType("navigation")[0]; return { t0: window.__t0?.toFixed(0), t1: window.__t1?.toFixed(0), dcl: nav.domContentLoadedEventStart.toFixed(0), res: performance.getEntriesByType("resource").map(r => [r.name.split("/").pop().slice(0,20), r.startTime.toFixed(0), r.responseEnd.toFixed(0)]), ff: window.hlsrelayDemo.firstFrameMs }; })));
await ctx.close();
}
