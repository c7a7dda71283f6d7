/**
 * Debian's headless Chromium driven by playwright-core, and what the tests read from
 * the demo page (`window.hlsrelayDemo`, the `<video>` and what the page shows).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { artifactsDir, sleep } from "./processes";

/** Debian's chromium package (scripts/install-test-deps.sh installs it); CHROMIUM overrides. */
export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  /** A new tab whose console errors and page errors are kept for failure messages. */
  newPage(): Promise<Page>;
  /** Console and page errors of every tab, newest last. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile (user data directory), removed on close. */
export async function launchBrowser(): Promise<Browser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hlsrelay-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 860 },
  });
  const logs: string[] = [];
  const watch = (page: Page): void => {
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") logs.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  };
  for (const p of context.pages()) await p.close();
  return {
    context,
    logs,
    async newPage() {
      const page = await context.newPage();
      watch(page);
      return page;
    },
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The demo page's URL at `base` (a relay's `/demo/` or a static server's root). */
export function demoUrl(
  base: string,
  q: {
    stream: string;
    token?: string;
    relay?: string;
    transport?: "ws" | "hls";
    mode?: "fragments" | "parts" | "direct" | "compare";
    fragmentsStream?: string;
    fragmentsToken?: string;
  },
): string {
  const u = new URL(base);
  if (q.relay) u.searchParams.set("relay", q.relay);
  if (q.mode) u.searchParams.set("mode", q.mode);
  u.searchParams.set("stream", q.stream);
  if (q.token !== undefined) u.searchParams.set("token", q.token);
  if (q.fragmentsStream !== undefined) u.searchParams.set("fragments_stream", q.fragmentsStream);
  if (q.fragmentsToken !== undefined) u.searchParams.set("fragments_token", q.fragmentsToken);
  if (q.transport) u.searchParams.set("transport", q.transport);
  return u.toString();
}

/** What a test reads from the page at one moment. */
export interface Snapshot {
  currentTime: number;
  /** Video frames the browser decoded (getVideoPlaybackQuality). */
  frames: number;
  videoWidth: number;
  videoHeight: number;
  paused: boolean;
  state: string;
  problems: Array<{ code: string; message: string; fatal: boolean }>;
  hlsFatal: Array<{ type: string; details: string }>;
  firstFrameMs: number | null;
  stalls: number;
  stalledMs: number;
  seeks: number;
  fragments: number;
  opens: number;
  resumes: number;
  /** What the page shows. */
  shown: { status: string; latency: string; bitrate: string; buffer: string; alert: string | null; reconnects: string };
}

export function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => {
    const d = (window as unknown as { hlsrelayDemo: import("../../src/main").DemoProbe }).hlsrelayDemo;
    const v = document.querySelector("video") as HTMLVideoElement;
    const text = (id: string): string => document.getElementById(id)?.textContent ?? "";
    const alert = document.getElementById("alert");
    return {
      currentTime: v.currentTime,
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      paused: v.paused,
      state: d.state,
      problems: d.problems.slice(),
      hlsFatal: d.hlsFatal.slice(),
      firstFrameMs: d.firstFrameMs,
      stalls: d.stalls,
      stalledMs: d.stalledMs,
      seeks: d.seeks,
      fragments: d.fragments,
      opens: d.opens,
      resumes: d.resumes,
      shown: {
        status: text("status-text"),
        latency: text("stat-latency"),
        bitrate: text("stat-bitrate"),
        buffer: text("stat-buffer"),
        alert: alert && !alert.hidden ? `${alert.dataset.code ?? ""}: ${text("alert-text")}` : null,
        reconnects: text("fact-reconnects"),
      },
    };
  });
}

/** One player of the page (`window.hlsrelayDemo.panes[i]`) and its `<video>`, at one moment. */
export interface PaneSnapshot {
  mode: string | null;
  stream: string;
  playing: string;
  fallback: string | null;
  state: string;
  currentTime: number;
  frames: number;
  videoWidth: number;
  firstFrameMs: number | null;
  stalls: number;
  stalledMs: number;
  seeks: number;
  fragments: number;
  parts: number;
  opens: number;
  /** The direct mode's counters (DirectStats), or null. */
  direct: Record<string, number | null> | null;
  /** What the pane shows: its relay-to-screen reading and its badge. */
  shown: { relay: string; badge: string };
}

/** Every player of the page, left to right. */
export function paneSnapshots(page: Page): Promise<PaneSnapshot[]> {
  return page.evaluate(() => {
    const d = (window as unknown as { hlsrelayDemo: import("../../src/main").DemoProbe }).hlsrelayDemo;
    const videos = [...document.querySelectorAll("video")];
    const panes = [...document.querySelectorAll<HTMLElement>(".pane:not([hidden])")];
    return d.panes.map((p, i) => {
      const v = videos[i] as HTMLVideoElement;
      const text = (k: string): string => panes[i]?.querySelector(`[data-k="${k}"]`)?.textContent ?? "";
      return {
        mode: p.mode,
        stream: p.stream,
        playing: p.playing,
        fallback: p.fallback,
        state: p.state,
        currentTime: v.currentTime,
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
        videoWidth: v.videoWidth,
        firstFrameMs: p.firstFrameMs,
        stalls: p.stalls,
        stalledMs: p.stalledMs,
        seeks: p.seeks,
        fragments: p.fragments,
        parts: p.parts,
        opens: p.opens,
        direct: p.direct ? { ...p.direct } : null,
        shown: { relay: text("relay"), badge: text("badge") },
      };
    });
  });
}

/**
 * Waits until the video plays `seconds` past `since` (a snapshot taken earlier), or past
 * its first frame: a picture is shown, the playhead advanced by `seconds`, and the browser
 * decoded at least 15 frames per second of it (so a seek alone does not count). Returns the
 * page's state then; fails with what the page showed if that does not happen within
 * `timeoutMs`.
 */
export async function waitPlaying(page: Page, browser: Browser, seconds: number, opts: { since?: Snapshot; timeoutMs?: number } = {}): Promise<Snapshot> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000 + seconds * 1000);
  const fail = (s: Snapshot, what: string): Error =>
    new Error(`${what}: ${JSON.stringify(s, null, 1)}\nbrowser log:\n${browser.logs.slice(-30).join("\n")}`);
  let s = await snapshot(page);
  let base = opts.since;
  while (!base) {
    if (s.videoWidth > 0 && s.firstFrameMs !== null) {
      base = s;
      break;
    }
    if (Date.now() > deadline) throw fail(s, "no picture");
    await sleep(50);
    s = await snapshot(page);
  }
  while (!(s.videoWidth > 0 && s.currentTime >= base.currentTime + seconds && s.frames >= base.frames + 15 * seconds)) {
    if (Date.now() > deadline) throw fail(s, `the video did not play ${seconds} s past ${base.currentTime.toFixed(2)} s (frame ${base.frames})`);
    await sleep(100);
    s = await snapshot(page);
  }
  return s;
}

/** Saves a screenshot of the page as test-artifacts/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
