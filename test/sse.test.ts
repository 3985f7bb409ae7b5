import { describe, expect, test } from "bun:test"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { decodeSse } from "../src/providers/sse.ts"
import { splitAt } from "./lib/http.ts"

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

  test("a multi-line data field is joined with newlines", async () => {
    const got = await decode(splitAt("data: a\ndata: b\n\n", []))
    expect(got).toEqual([{ event: "message", data: "a\nb" }])
  })

  test("an event without its closing blank line at end of body is dropped (per the SSE spec)", async () => {
    const got = await decode(splitAt("data: one\n\ndata: tw", []))
    expect(got).toEqual([{ event: "message", data: "one" }])
  })
})
