import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url] = process.argv.slice(2);
const dir = mkdtempSync("/tmp/pw-");
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
const page = ctx.pages()[0];
const t0 = Date.now();
page.on("console", (m) => { const t = m.text(); if (!/setting|Parsed|addFragment|attach|Updating|Cleared|audio|AAC|level|track|fragments/.test(t) || true) console.log(String(Date.now() - t0).padStart(5), t.slice(0, 160)); });
await page.goto(url);
await page.waitForTimeout(2500);
console.log("ff", await page.evaluate(() => window.hlsrelayDemo.firstFrameMs));
await ctx.close();
