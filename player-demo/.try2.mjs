import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, n] = process.argv.slice(2);
for (let j = 0; j < Number(n || 1); j++) {
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
await ctx.addInitScript(() => {
  const marks = (window.__marks = []);
  const mark = (s) => marks.push(`${performance.now().toFixed(0)} ${s}`);
  mark("init");
  document.addEventListener("DOMContentLoaded", () => mark("DOMContentLoaded"));
  const WS = window.WebSocket;
  window.WebSocket = class extends WS { constructor(u) { super(u); mark("ws new"); this.addEventListener("open", () => mark("ws open")); this.addEventListener("message", (e) => { if (typeof e.data === "string") mark("ws " + e.data.slice(0, 60)); }); } };
  const raf = () => { mark("raf"); if (marks.filter(m=>m.endsWith("raf")).length < 3) requestAnimationFrame(raf); }; requestAnimationFrame(raf);
  for (const ev of ["loadstart","loadedmetadata","loadeddata","canplay","playing","waiting","seeking","seeked"]) document.addEventListener(ev, () => mark("video " + ev), true);
});
for (let i = 0; i < 1; i++) {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForTimeout(3000);
  console.log((await page.evaluate(() => window.__marks)).join("\n"));
  console.log("firstFrame", await page.evaluate(() => window.hlsrelayDemo.firstFrameMs));
  await page.close();
}
await ctx.close();
}
