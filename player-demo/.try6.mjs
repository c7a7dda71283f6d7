import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, n, mode] = process.argv.slice(2);
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
const res = [];
for (let i = 0; i < Number(n || 1); i++) {
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  if (mode === "cold") { await cdp.send("Network.enable"); await cdp.send("Network.clearBrowserCache"); await cdp.send("Network.setCacheDisabled", { cacheDisabled: true }); }
  await page.goto(url);
  await page.waitForFunction(() => window.hlsrelayDemo?.firstFrameMs != null, null, { timeout: 10000 });
  const r = await page.evaluate(() => { const nav = performance.getEntriesByType("navigation")[0]; return { ff: Math.round(window.hlsrelayDemo.firstFrameMs), dcl: Math.round(nav.domContentLoadedEventStart), seeks: window.hlsrelayDemo.seeks }; });
  res.push(r.ff); console.log(JSON.stringify(r));
  await page.close();
}
res.sort((a,b)=>a-b); console.log("median", res[Math.floor((res.length-1)/2)], res.join(" "));
await ctx.close();
