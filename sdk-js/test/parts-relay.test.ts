import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RelayClient, type Fragment, type InitSegment, type Part } from "../src/client";
import { decodeOk, encodePart, encodePush, parseMessage } from "../src/protocol";
import { FragmentStore, feedStore } from "../src/store";
import { TcpProxy, signToken, sleep, startRelay, until, type Relay } from "./helpers/relay";

// The parts extension against a real relay process (bin/hlsrelay from `make build`). A relay
// built before the extension answers the publisher's PUSH without parts=1: the tests then skip.

let relay: Relay;
let streamNo = 0;
const newStream = (): string => `sdkjs/parts${++streamNo}/640x360-30~400`;

/** A publisher of fMP4 in parts, speaking the protocol itself for exact bytes. */
class PartsPublisher {
  private constructor(private readonly ws: WebSocket) {}

  /** Connects; resolves to null if the relay does not confirm parts=1. */
  static async connect(stream: string): Promise<PartsPublisher | null> {
    const ws = new WebSocket(relay.url);
    ws.binaryType = "arraybuffer";
    const parts = await new Promise<boolean>((resolve, reject) => {
      ws.onopen = () => ws.send(encodePush({ stream, auth: signToken(relay.pushSecret, "PUSH", stream), ext: true, parts: true }));
      ws.onmessage = (ev: MessageEvent) => {
        const m = typeof ev.data === "string" ? parseMessage(ev.data) : null;
        const ok = m ? decodeOk(m) : null;
        if (ok) resolve(ok.parts === true);
        else reject(new Error(`publisher: unexpected ${String(ev.data)}`));
      };
      ws.onerror = () => reject(new Error("publisher: connection failed"));
    });
    ws.onmessage = null;
    if (!parts) ws.close();
    return parts ? new PartsPublisher(ws) : null;
  }

  init(bytes: number[]): void {
    this.ws.send("I");
    this.ws.send(new Uint8Array(bytes));
  }

  /** Part `index` of fragment `seq`: two bytes, [seq, index]. */
  part(seq: number, index: number): void {
    this.ws.send(encodePart({ index, duration: 0.2, independent: index === 0, time: 1764000000000 + seq * 1000 + index * 200, disc: false }));
    this.ws.send(new Uint8Array([seq, index]));
  }

  close(count: number): void {
    this.ws.send(`F:duration=${(count * 0.2).toFixed(1)}&parts=${count}`);
  }

  end(): void {
    this.ws.send("CLOSE");
    this.ws.close();
  }
}

function collect(c: RelayClient) {
  const log: string[] = [];
  const inits: InitSegment[] = [];
  const parts: Part[] = [];
  const fragments: Fragment[] = [];
  c.on("open", (i) => log.push(`open parts=${i.parts} resumed=${i.resumed}`));
  c.on("init", (i) => {
    inits.push(i);
    log.push("init");
  });
  c.on("part", (p) => {
    parts.push(p);
    log.push(`part ${p.seq}.${p.index}`);
  });
  c.on("fragment", (f) => {
    fragments.push(f);
    log.push(`fragment ${f.seq} ${f.parts ? `complete=${String(f.complete)}` : "whole"}`);
  });
  c.on("error", (e) => log.push(`error ${e.code}`));
  return { log, inits, parts, fragments };
}

describe("parts against a real relay", { timeout: 120_000 }, () => {
  before(async () => {
    relay = await startRelay();
  });
  after(async () => {
    await relay?.stop();
  });

  test("init, parts at once, fragments at their closing F; a base viewer gets them whole; the store lists them", async (t) => {
    const stream = newStream();
    const pub = await PartsPublisher.connect(stream);
    if (!pub) {
      t.skip("this relay does not speak the parts extension");
      return;
    }
    pub.init([0x66, 0x74]);
    for (let k = 0; k < 3; k++) pub.part(0, k);
    pub.close(3);
    pub.part(1, 0);
    pub.part(1, 1);
    await sleep(100);
    const token = signToken(relay.pullSecret, "PULL", stream);
    const backlog = new RelayClient({ url: relay.url, stream, token, parts: true, maxInitialFragments: 2 });
    const live = new RelayClient({ url: relay.url, stream, token, parts: true });
    const base = new RelayClient({ url: relay.url, stream, token });
    const b = collect(backlog);
    const l = collect(live);
    const w = collect(base);
    const store = new FragmentStore({ initialFragments: 2 });
    feedStore(backlog, store);
    try {
      backlog.start();
      live.start();
      base.start();
      await until(() => b.parts.length === 5 && l.parts.length === 2 && w.fragments.length === 1, 10_000, "the backlog");
      pub.part(1, 2);
      pub.close(3);
      await until(() => b.fragments.length === 2 && l.fragments.length === 1 && w.fragments.length === 2, 10_000, "fragment 1");
      assert.deepEqual(b.log, ["open parts=true resumed=false", "init", "part 0.0", "part 0.1", "part 0.2", "fragment 0 complete=true", "part 1.0", "part 1.1", "part 1.2", "fragment 1 complete=true"]);
      assert.deepEqual(l.log, ["open parts=true resumed=false", "init", "part 1.0", "part 1.1", "part 1.2", "fragment 1 complete=true"], "a new viewer starts at the latest independent part");
      assert.deepEqual(w.log, ["open parts=false resumed=false", "fragment 0 whole", "fragment 1 whole"]);
      assert.deepEqual([...new Uint8Array(b.inits[0]?.data ?? new ArrayBuffer(0))], [0x66, 0x74]);
      assert.deepEqual(b.parts.map((p) => [p.seq, p.index, p.independent, p.time, [...new Uint8Array(p.data)]]).slice(0, 2), [
        [0, 0, true, 1764000000000, [0, 0]],
        [0, 1, false, 1764000000200, [0, 1]],
      ]);
      for (const f of [b.fragments[1], l.fragments[0], w.fragments[1]]) {
        assert.deepEqual([...new Uint8Array(f?.data ?? new ArrayBuffer(0))], [1, 0, 1, 1, 1, 2], "the same bytes, in parts or whole");
      }
      const text = store.playlist();
      assert.match(text, /#EXT-X-MAP:URI="init\/1\.mp4"\n/);
      assert.match(text, /#EXT-X-PART:DURATION=0\.2,URI="part\/1\.2\.m4s"\n#EXTINF:0\.6,\nseq\/1\.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part\/2\.0\.m4s"\n$/);
      pub.end();
    } finally {
      backlog.destroy();
      live.destroy();
      base.destroy();
    }
  });

  test("a viewer cut in the middle of a fragment resumes after the last closed one, without duplicate parts", async (t) => {
    const stream = newStream();
    const pub = await PartsPublisher.connect(stream);
    if (!pub) {
      t.skip("this relay does not speak the parts extension");
      return;
    }
    const proxy = await TcpProxy.start(relay.port);
    const client = new RelayClient({
      url: `ws://127.0.0.1:${proxy.port}/`,
      stream,
      token: signToken(relay.pullSecret, "PULL", stream),
      parts: true,
      reconnect: { minDelayMs: 20, maxDelayMs: 50, jitter: 0 },
    });
    const c = collect(client);
    try {
      pub.init([0x66]);
      pub.part(0, 0);
      client.start();
      await until(() => c.parts.length === 1, 10_000, "the first part");
      pub.part(0, 1);
      pub.close(2);
      pub.part(1, 0);
      await until(() => c.parts.length === 3, 10_000, "part 1.0");
      proxy.cut();
      await until(() => c.log.filter((e) => e.startsWith("open")).length === 2, 10_000, "the reconnect");
      pub.part(1, 1);
      pub.close(2);
      await until(() => c.fragments.length === 2, 10_000, "fragment 1");
      assert.deepEqual(client.position.seq, 1);
      assert.deepEqual(
        c.log.filter((e) => !e.startsWith("error")),
        ["open parts=true resumed=false", "init", "part 0.0", "part 0.1", "fragment 0 complete=true", "part 1.0", "open parts=true resumed=true", "init", "part 1.1", "fragment 1 complete=true"],
      );
      assert.deepEqual([...new Uint8Array(c.fragments[1]?.data ?? new ArrayBuffer(0))], [1, 0, 1, 1]);
      assert.equal(client.stats.duplicates, 1, "part 1.0, sent again after the resume");
      pub.end();
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});
