import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, n] = process.argv.slice(2);
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
await ctx.addInitScript(() => {
  const marks = (window.__marks = []);
  const mark = (s) => marks.push(`${performance.now().toFixed(0)} ${s}`);
  const WS = window.WebSocket;
  window.WebSocket = class extends WS { constructor(u) { super(u); mark("ws new"); this.addEventListener("open", () => mark("ws open")); this.addEventListener("message", (e) => { if (typeof e.data === "string") mark("ws " + e.data.slice(0, 30)); }); } };
  for (const ev of ["loadstart","loadedmetadata","loadeddata","canplay","playing","waiting","seeking","seeked"]) document.addEventListener(ev, () => mark("video " + ev), true);
  document.addEventListener("DOMContentLoaded", () => mark("DCL"));
});
for (let i = 0; i < Number(n); i++) {
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Network.enable"); await cdp.send("Network.clearBrowserCache"); await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  page.on("console", (m) => { if (/Loading main|Buffered main|seek|manifest loaded|Level 0 loaded/.test(m.text())) page.evaluate((t) => window.__marks.push(`${performance.now().toFixed(0)} hls ${t}`), m.text().slice(0, 70)).catch(() => {}); });
  await page.goto(url);
  await page.waitForFunction(() => window.hlsrelayDemo?.firstFrameMs != null, null, { timeout: 10000 });
  await page.waitForTimeout(300);
  console.log("--- ff", await page.evaluate(() => window.hlsrelayDemo.firstFrameMs));
  console.log((await page.evaluate(() => window.__marks)).join("\n"));
  await page.close();
}
await ctx.close();
