import { describe, expect, test } from "bun:test"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { runWireParser, type WireParser } from "../src/providers/parser.ts"
import * as Sse from "effect/encoding/Sse"
import { decodeSse, makeSseParser, type SseMessage, SseTooLarge } from "../src/providers/sse.ts"
import { InvalidResponseError, ProviderError } from "../src/providers/errors.ts"
import { emptyUsage } from "../src/providers/event.ts"
import { splitAt } from "./lib/http.ts"
import { makeEntry } from "./lib/provider.ts"

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runPromise(
    Stream.fromIterable(chunks).pipe(Stream.decodeText(), decodeSse, Stream.runCollect)
  ).then((events) => Array.from(events, (e) => ({ event: e.event, data: e.data })))

// Data lines may hold any text but line breaks (JSON payloads never contain raw newlines).
const dataText = fc.string({ unit: fc.oneof(fc.constantFrom("a", "{", "\"", ":", " ", "é", "😀", "中", "\\"), fc.string({ minLength: 1, maxLength: 1 })) })
  .map((s) => s.replace(/[\r\n]/g, ""))

const eventArb = fc.record({
  name: fc.option(fc.constantFrom("message_start", "content_block_delta", "error"), { nil: undefined }),
  data: dataText,
  comment: fc.boolean()
})

describe("SSE decoding", () => {
  test("property: any chunking, CRLF or LF, comments, splits inside UTF-8 → the same events", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 8 }),
        fc.constantFrom("\n", "\r\n", "\r"),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (events, eol, cuts) => {
          const text = events.map((e) =>
            (e.comment ? `: keep-alive${eol}` : "") +
            (e.name ? `event: ${e.name}${eol}` : "") +
            `data: ${e.data}${eol}${eol}`
          ).join("")
          const bytes = new TextEncoder().encode(text).length
          const got = await decode(splitAt(text, cuts.map((c) => c % (bytes + 1))))
          expect(got).toEqual(events.map((e) => ({ event: e.name ?? "message", data: e.data })))
        }
      ),
      { numRuns: 300 }
    )
  })

  // effect/encoding's parser is the oracle: byok's own (faster) one must read any text as it does, cut anywhere.
  const oracle = (text: string) => {
    const out: Array<{ event: string; data: string }> = []
    const parser = Sse.makeParser((e) => {
      if (e._tag === "Event") out.push({ event: e.event, data: e.data })
    })
    parser.feed(text)
    return out
  }
  const ours = (pieces: ReadonlyArray<string>) => {
    const out: Array<{ event: string; data: string }> = []
    const parser = makeSseParser((m) => out.push({ event: m.event, data: m.data }))
    for (const piece of pieces) expect(parser.feed(piece)).toBeUndefined()
    return out
  }
  const cutText = (text: string, cuts: ReadonlyArray<number>) => {
    const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
    return [...at, text.length].map((end, i) => text.slice(i === 0 ? 0 : at[i - 1], end))
  }
  // Lines of every kind the spec knows, in any order, with every line ending; and raw text made of the
  // characters that matter to framing.
  const sseLine = fc.oneof(
    fc.constantFrom("", ":", ": ping", "data", "data:", "data: ", "data:x", "data:  two spaces", "event", "event:", "event: e",
      "event:message_start", "id: 7", "id", "retry: 100", "retry: x", "unknown: field", "DATA: upper", " data: lead", "data:\uFEFF"),
    fc.tuple(fc.constantFrom("data: ", "event: ", "data:", ""), dataText).map(([field, value]) => field + value)
  )
  const sseDocument = fc.tuple(
    fc.boolean(),
    fc.array(fc.tuple(sseLine, fc.constantFrom("\n", "\r\n", "\r")), { maxLength: 30 })
  ).map(([bom, lines]) => (bom ? "\uFEFF" : "") + lines.map(([l, eol]) => l + eol).join(""))
  const rawDocument = fc.string({ unit: fc.constantFrom("d", "a", "t", "e", ":", " ", "\n", "\r", "x", "\uFEFF", "é"), maxLength: 200 })

  test("property: byok's parser reads any event stream as effect/encoding's does, however it is cut", () => {
    fc.assert(
      fc.property(fc.oneof(sseDocument, rawDocument), fc.array(fc.nat(), { maxLength: 30 }), (text, cuts) => {
        expect(ours(cutText(text, cuts))).toEqual(oracle(text))
      }),
      { numRuns: 2000 }
    )
  })

  test("an event that grows past the limit without ending fails, and the parser goes on after it", () => {
    const out: Array<string> = []
    const parser = makeSseParser((m) => out.push(m.data), 16)
    expect(parser.feed("data: 0123456789")).toBeUndefined()
    expect(parser.feed("abcdefghij")).toBeInstanceOf(SseTooLarge)
    expect(parser.feed("\n\ndata: ok\n\n")).toBeUndefined()
    expect(out).toEqual(["ok"])
  })

  test("a multi-line data field is joined with newlines", async () => {
    const got = await decode(splitAt("data: a\ndata: b\n\n", []))
    expect(got).toEqual([{ event: "message", data: "a\nb" }])
  })

  test("an event without its closing blank line at end of body is dropped (per the SSE spec)", async () => {
    const got = await decode(splitAt("data: one\n\ndata: tw", []))
    expect(got).toEqual([{ event: "message", data: "one" }])
  })
})

describe("runWireParser", () => {
  const error = new ProviderError({
    entry: makeEntry(), midStream: false,
    reason: new InvalidResponseError({ detail: "bad" })
  })
  /** A toy parser: "t" is text, "f" a Finish, "x" a failure; onHalt says whether it was asked. */
  let halted = 0
  const toy: WireParser<null> = {
    initial: () => null,
    step: (s, input) => {
      if (input._tag === "Broken") return [s, []]
      if (input.data === "f") return [s, [{ _tag: "Finish", reason: "stop", rawReason: undefined, usage: emptyUsage }]]
      if (input.data === "x") return [s, [{ _tag: "TextDelta", text: "before" }, { _tag: "Fail", error }, { _tag: "TextDelta", text: "after" }]]
      return [s, [{ _tag: "TextDelta", text: input.data }]]
    },
    onHalt: () => {
      halted++
      return [{ _tag: "Fail", error }]
    }
  }
  let seen: Array<string> = []
  const run = (data: ReadonlyArray<string>) => {
    seen = []
    return Effect.runPromise(Effect.result(Stream.runForEach(
      runWireParser(Stream.fromIterable(data.map((d): SseMessage => ({ _tag: "Event", event: "message", data: d }))), toy),
      (e) => Effect.sync(() => void seen.push(e._tag === "TextDelta" ? e.text : e._tag))
    )))
  }

  test("the first Finish ends the answer: nothing after it in the same chunk, and no onHalt", async () => {
    halted = 0
    expect((await run(["a", "f", "b", "f"]))._tag).toBe("Success")
    expect(seen).toEqual(["a", "Finish"])
    expect(halted).toBe(0)
  })

  test("a failure ends it: what came before is delivered, what came after is not", async () => {
    halted = 0
    expect((await run(["a", "x", "b"]))._tag).toBe("Failure")
    expect(seen).toEqual(["a", "before"])
    expect(halted).toBe(0)
  })

  test("a body that ends with no terminal output asks onHalt", async () => {
    halted = 0
    expect((await run(["a"]))._tag).toBe("Failure")
    expect(halted).toBe(1)
  })
})
