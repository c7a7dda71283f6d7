import { chromium } from "playwright-core";
import { mkdtempSync, writeFileSync } from "node:fs";
const [url] = process.argv.slice(2);
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
// warm the browser once
{ const p = await ctx.newPage(); await p.goto(url); await p.waitForFunction(() => window.hlsrelayDemo?.firstFrameMs != null); await p.close(); }
const page = await ctx.newPage();
await page.goto(new URL("/demo.css", url).toString());
const cdp = await ctx.newCDPSession(page);
await cdp.send("Network.enable"); await cdp.send("Network.clearBrowserCache"); await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
await cdp.send("Profiler.enable"); await cdp.send("Profiler.setSamplingInterval", { interval: 200 }); await cdp.send("Profiler.start");
await page.goto(url);
await page.waitForFunction(() => window.hlsrelayDemo?.firstFrameMs != null);
const { profile } = await cdp.send("Profiler.stop");
console.log("ff", await page.evaluate(() => window.hlsrelayDemo.firstFrameMs));
// aggregate self time by function+url
const byId = new Map(profile.nodes.map(n => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas; 
for (let i = 0; i < profile.samples.length; i++) { const n = byId.get(profile.samples[i]); const k = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) || 0) + (dt[i] || 0)); }
const top = [...self.entries()].sort((a,b)=>b[1]-a[1]).slice(0, 25);
for (const [k, v] of top) console.log((v/1000).toFixed(1).padStart(7), "ms", k.slice(0, 100));
await ctx.close();
