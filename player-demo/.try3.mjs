import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, n] = process.argv.slice(2);
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
for (let i = 0; i < Number(n || 1); i++) {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForTimeout(2500);
  console.log(JSON.stringify(await page.evaluate(() => { const nav = performance.getEntriesByType("navigation")[0]; return { nav: { reqStart: nav.requestStart.toFixed(0), respEnd: nav.responseEnd.toFixed(0), dcl: nav.domContentLoadedEventStart.toFixed(0) }, res: performance.getEntriesByType("resource").map(r => [r.name.split("/").pop().slice(0,20), r.startTime.toFixed(0), r.responseEnd.toFixed(0), r.transferSize]), ff: window.hlsrelayDemo.firstFrameMs }; })));
  await page.close();
}
await ctx.close();
