import { describe, expect, test } from "bun:test"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { type Emit, runWireParser, type WireParser } from "../src/providers/parser.ts"
import * as Sse from "effect/encoding/Sse"
import { makeSseParser, message, SseTooLarge } from "../src/providers/sse.ts"
import { InvalidResponseError, ProviderError } from "../src/providers/errors.ts"
import { emptyUsage } from "../src/providers/event.ts"
import { splitAt } from "./lib/http.ts"
import { makeEntry } from "./lib/provider.ts"

/** The messages a parser is handed for a body cut anywhere, decoded from UTF-8 as http.ts's bodyText does. */
const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runPromise(
    runWireParser(Stream.fromIterable(chunks).pipe(Stream.decodeText()), (emit) => ({
      // Each message comes back as a Start event: those are never joined.
      message: (event, data) => emit.event({ _tag: "Start", requestId: event, model: data }),
      broken: () => {},
      end: () => {}
    })).pipe(Stream.runCollect)
  ).then((events) => Array.from(events, (e) => (e._tag === "Start" ? { event: e.requestId, data: e.model } : e)))

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
    const parser = makeSseParser((event, data) => out.push({ event, data }))
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
    const parser = makeSseParser((_, data) => out.push(data), 16)
    expect(parser.feed("data: 0123456789")).toBeUndefined()
    expect(parser.feed("abcdefghij")).toBeInstanceOf(SseTooLarge)
    expect(parser.feed("\n\ndata: ok\n\n")).toBeUndefined()
    expect(out).toEqual(["ok"])
  })

  test("a multi-line data field is joined with newlines", async () => {
    const got = await decode(splitAt("data: a\ndata: b\n\n", []))
    expect(got).toEqual([{ event: "message", data: "a\nb" }])
  })

  test("an event without its closing blank line at the end of the body is still delivered (`data: [DONE]` with no newline)", async () => {
    expect(await decode(splitAt("data: one\n\ndata: tw", []))).toEqual([{ event: "message", data: "one" }, { event: "message", data: "tw" }])
    expect(await decode(splitAt("data: one\n\ndata: [DONE]\n", []))).toEqual([{ event: "message", data: "one" }, { event: "message", data: "[DONE]" }])
    expect(await decode(splitAt("data: one\n\n", []))).toEqual([{ event: "message", data: "one" }])
  })
})

describe("runWireParser", () => {
  const error = new ProviderError({
    entry: makeEntry(), midStream: false,
    reason: new InvalidResponseError({ detail: "bad" })
  })
  /**
   * A toy parser: "t…" is text, "r…" reasoning, "s" a Start, "f" a Finish, "x" text, a failure, then text; `end`
   * says whether it was asked.
   */
  let ended = 0
  const toy = (emit: Emit): WireParser => ({
    message: (_, data) => {
      if (data === "f") return emit.event({ _tag: "Finish", reason: "stop", rawReason: undefined, usage: emptyUsage })
      if (data === "s") return emit.event({ _tag: "Start", requestId: undefined, model: undefined })
      if (data === "x") {
        emit.text("before")
        emit.fail(error)
        return emit.text("after")
      }
      if (data.startsWith("r")) return emit.reasoning(data.slice(1))
      emit.text(data.slice(1))
    },
    broken: () => {},
    end: () => {
      ended++
      emit.fail(error)
    }
  })
  let seen: Array<string> = []
  /** Runs the toy over messages, in network chunks of `perChunk` messages. */
  const run = (data: ReadonlyArray<string>, perChunk = data.length, tail: Stream.Stream<string> = Stream.empty) => {
    seen = []
    ended = 0
    const chunks: Array<string> = []
    for (let i = 0; i < data.length; i += perChunk) chunks.push(data.slice(i, i + perChunk).map((d) => `data: ${d}\n\n`).join(""))
    return Effect.runPromise(Effect.result(Stream.runForEach(
      // One network chunk a pull, as a response body arrives.
      runWireParser(Stream.concat(Stream.fromIterable(chunks).pipe(Stream.rechunk(1)), tail), toy),
      (e) => Effect.sync(() => void seen.push(e._tag === "TextDelta" ? e.text : e._tag === "ReasoningDelta" ? `(${e.text})` : e._tag))
    )))
  }

  test("the first Finish ends the answer: nothing after it in the same chunk, no end, and no more of the body read", async () => {
    // The body would never end after the Finish: the runner must not wait for it.
    expect((await run(["ta", "f", "tb", "f"], 4, Stream.never))._tag).toBe("Success")
    expect(seen).toEqual(["a", "Finish"])
    expect(ended).toBe(0)
  })

  test("a failure ends it: what came before is delivered, what came after is not", async () => {
    expect((await run(["ta", "x", "tb"]))._tag).toBe("Failure")
    expect(seen).toEqual(["abefore"])
    expect(ended).toBe(0)
  })

  test("a body that ends with no terminal output asks end", async () => {
    expect((await run(["ta"]))._tag).toBe("Failure")
    expect(ended).toBe(1)
  })

  test("the deltas of a network chunk are joined into one event per run of a kind, in order", async () => {
    await run(["s", "ta", "tb", "rc", "rd", "te", "s", "tf", "f"])
    expect(seen).toEqual(["Start", "ab", "(cd)", "e", "Start", "f", "Finish"])
    // Never across network chunks: each one's events are delivered as soon as it has been read.
    await run(["ta", "tb", "tc", "td", "f"], 2)
    expect(seen).toEqual(["ab", "cd", "Finish"])
  })

  test("messages already framed (a whole JSON answer) go to the parser as they are", async () => {
    seen = []
    await Effect.runPromise(Stream.runForEach(
      runWireParser(Stream.fromIterable([message("tx"), message("ty"), message("f")]), toy),
      (e) => Effect.sync(() => void seen.push(e._tag === "TextDelta" ? e.text : e._tag))
    ))
    expect(seen).toEqual(["xy", "Finish"])
  })
})
