import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import {
  decodeFragment,
  decodeOk,
  decodePart,
  decodePull,
  decodePush,
  encodeFragment,
  encodePart,
  encodePull,
  encodePush,
  escapeComponent,
  isValid,
  parseMessage,
} from "../src/protocol";
import { repoRoot } from "./helpers/relay";

interface Vector {
  name: string;
  text: string;
  type: string;
  params: Record<string, string>;
  valid: boolean;
}

// The same file the Go codec's TestVectors reads: the two codecs cannot drift.
const vectorsFile = path.join(repoRoot, "sdk-go", "protocol", "testdata", "vectors.json");
const vectors = JSON.parse(readFileSync(vectorsFile, "utf8")) as Vector[];

describe("codec against the shared test vectors", () => {
  test("the file holds the vectors", () => {
    assert.ok(vectors.length >= 50, `${vectorsFile} holds only ${vectors.length} vectors`);
    assert.ok(vectors.some((v) => v.valid) && vectors.some((v) => !v.valid));
  });
  for (const v of vectors) {
    test(v.name, () => {
      const m = parseMessage(v.text);
      const got =
        m === null
          ? { type: "", params: {}, valid: false }
          : { type: m.type, params: { ...m.params }, valid: isValid(m) };
      assert.deepEqual(got, { type: v.type, params: v.params, valid: v.valid }, `text ${JSON.stringify(v.text)}`);
    });
  }
});

describe("encoding", () => {
  test("PULL is written exactly as the Go codec writes it", () => {
    const text = encodePull({
      stream: "room1/cam",
      auth: "t",
      onlySource: true,
      maxInitialFragments: 3,
      ext: true,
      resume: { epoch: "m3k9x2", after: 18 },
    });
    assert.equal(text, "PULL:stream=room1%2Fcam&auth=t&only_source=true&max_initial_fragments=3&ext=1&epoch=m3k9x2&after=18");
    assert.ok(vectors.some((v) => v.text === text), "the vectors hold this text");
  });

  test("base PULL carries no extension parameter", () => {
    assert.equal(encodePull({ stream: "s", auth: "a.b.c" }), "PULL:stream=s&auth=a.b.c");
    assert.equal(encodePull({ stream: "s", auth: "", resume: { epoch: "e", after: 1 } }), "PULL:stream=s&auth=");
  });

  test("every byte outside the unreserved set is percent-encoded", () => {
    assert.equal(escapeComponent("a b+c/é~_.-!*'()"), "a%20b%2Bc%2F%C3%A9~_.-%21%2A%27%28%29");
  });

  test("encoded messages decode to what was encoded", () => {
    const streams = ["room1/cam/1280x720-30~2000", "my room", "100%", "😀/é", "a&b=c"];
    for (const stream of streams) {
      const m = parseMessage(encodePull({ stream, auth: "x y", maxInitialFragments: 0, ext: true, resume: { epoch: "e 1", after: 9007199254740991 } }));
      assert.ok(m);
      assert.deepEqual(decodePull(m), {
        stream,
        auth: "x y",
        onlySource: false,
        ext: true,
        maxInitialFragments: 0,
        resume: { epoch: "e 1", after: 9007199254740991 },
      });
      const push = parseMessage(encodePush({ stream, auth: "t", ext: true, epoch: "p" }));
      assert.ok(push && isValid(push));
      assert.equal(push.params.stream, stream);
    }
    const f = parseMessage(encodeFragment({ duration: 2.002, seq: 17, time: 1764000000123, disc: true }, true));
    assert.ok(f);
    assert.deepEqual(decodeFragment(f), { duration: 2.002, seq: 17, time: 1764000000123, disc: true });
    const base = parseMessage(encodeFragment({ duration: 0.5, seq: 17, time: 5, disc: true }, false));
    assert.ok(base);
    assert.deepEqual(decodeFragment(base), { duration: 0.5, disc: false });
  });

  test("OK without ext ignores extension parameters", () => {
    const m = parseMessage("OK:epoch=e&next=5");
    assert.ok(m);
    assert.deepEqual(decodeOk(m), { ext: false, epoch: "" });
  });
});

describe("parts extension", () => {
  test("PULL and PUSH ask for parts only with ext, as the Go codec writes them", () => {
    const pull = encodePull({ stream: "s", auth: "t", ext: true, resume: { epoch: "e", after: 4 }, parts: true });
    assert.equal(pull, "PULL:stream=s&auth=t&ext=1&epoch=e&after=4&parts=1");
    assert.ok(vectors.some((v) => v.text === pull), "the vectors hold this text");
    assert.equal(encodePull({ stream: "s", auth: "t", parts: true }), "PULL:stream=s&auth=t");
    const m = parseMessage(pull);
    assert.ok(m);
    assert.equal(decodePull(m)?.parts, true);
    const base = parseMessage("PULL:stream=s&auth=t&parts=1");
    assert.ok(base);
    assert.equal(decodePull(base)?.parts, undefined, "ignored without ext");
    const push = parseMessage(encodePush({ stream: "s", auth: "t", ext: true, parts: true }));
    assert.ok(push);
    assert.equal(decodePush(push)?.parts, true);
  });

  test("OK carries parts and next_part", () => {
    const ok = parseMessage("OK:ext=1&epoch=e&next=3&parts=1&next_part=2");
    assert.ok(ok);
    assert.deepEqual(decodeOk(ok), { ext: true, epoch: "e", next: 3, parts: true, nextPart: 2 });
    const without = parseMessage("OK:ext=1&epoch=e&next_part=2");
    assert.ok(without);
    assert.deepEqual(decodeOk(without), { ext: true, epoch: "e" });
  });

  test("F closing a fragment of N parts; parts=0 is a whole fragment", () => {
    const closing = { duration: 1.001, seq: 4, time: 1764000000123, disc: false, parts: 5 };
    const text = encodeFragment(closing, true);
    assert.equal(text, "F:duration=1.001&seq=4&time=1764000000123&parts=5");
    assert.ok(vectors.some((v) => v.text === text));
    const m = parseMessage(text);
    assert.ok(m);
    assert.deepEqual(decodeFragment(m), closing);
    const whole = parseMessage("F:duration=1&parts=0");
    assert.ok(whole);
    assert.deepEqual(decodeFragment(whole), { duration: 1, disc: false });
  });

  test("P round-trips, in the Go codec's order", () => {
    const part = { seq: 4, index: 0, duration: 0.2, independent: true, time: 1764000000123, disc: false };
    const text = encodePart(part);
    assert.equal(text, "P:seq=4&part=0&duration=0.2&independent=1&time=1764000000123");
    assert.ok(vectors.some((v) => v.text === text));
    const m = parseMessage(text);
    assert.ok(m);
    assert.deepEqual(decodePart(m), part);
    const publisher = parseMessage(encodePart({ index: 1, duration: 0.2, independent: false, disc: true }));
    assert.ok(publisher && isValid(publisher));
    assert.deepEqual(decodePart(publisher), { index: 1, duration: 0.2, independent: false, disc: true });
  });
});
