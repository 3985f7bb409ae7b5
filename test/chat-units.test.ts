import { describe, expect, test } from "bun:test"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { completeCommand, parseInput } from "../src/chat/commands.ts"
import { LineEditor, renderFrame, stringWidth } from "../src/chat/editor.ts"
import { type Key, makeKeyDecoder } from "../src/chat/keys.ts"
import { answerText, finishNote } from "../src/cli/render.ts"
import type { FinishEvent } from "../src/conversation/conversation.ts"
import { emptyUsage, type LlmEvent } from "../src/providers/event.ts"
import { makeEntry } from "./lib/provider.ts"

const decodeAll = (chunks: ReadonlyArray<string>) => {
  const decoder = makeKeyDecoder()
  const keys = chunks.flatMap((c) => decoder.feed(c))
  // Adjacent text keys are one typing run however the reads were split: merge them to compare.
  return keys.reduce<Array<Key>>((acc, k) => {
    const last = acc.at(-1)
    if (k.name === "char" && last?.name === "char") acc[acc.length - 1] = { name: "char", text: last.text + k.text }
    else acc.push(k)
    return acc
  }, [])
}

describe("key decoder", () => {
  test("arrows, control keys, Alt+Enter, text", () => {
    expect(decodeAll(["ab\x1b[A\x1b[D\x7f\r\x1b\r\x03\x04\x0e\x1b[3~\x1b[1;5C"])).toEqual([
      { name: "char", text: "ab" },
      { name: "up" },
      { name: "left" },
      { name: "backspace" },
      { name: "enter" },
      { name: "newline" },
      { name: "ctrl-c" },
      { name: "ctrl-d" },
      { name: "down" },
      { name: "delete" },
      { name: "word-right" }
    ])
  })

  test("Escape followed by a key keeps the key", () => {
    expect(decodeAll(["\x1b", "a"])).toEqual([{ name: "escape" }, { name: "char", text: "a" }])
  })

  test("a bracketed paste is one key, newlines included and CRLF normalised, never an Enter", () => {
    expect(decodeAll(["x\x1b[200~line 1\r\nline 2\r\x1b[201~y"])).toEqual([
      { name: "char", text: "x" },
      { name: "paste", text: "line 1\nline 2\n" },
      { name: "char", text: "y" }
    ])
  })

  test("property: however the input is split into reads, the same keys come out", () => {
    const input = "héllo 👋\x1b[A\x1b[200~pa\r\nste\x1b[201~\x1b[1;5D\x1b\rw\x7f\r"
    const whole = decodeAll([input])
    fc.assert(
      fc.property(fc.array(fc.nat(input.length), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b)
        const chunks: Array<string> = []
        let prev = 0
        for (const p of [...points, input.length]) {
          chunks.push(input.slice(prev, p))
          prev = p
        }
        expect(decodeAll(chunks.filter((c) => c !== ""))).toEqual(whole)
      }),
      { numRuns: 300 }
    )
  })
})

const type = (editor: LineEditor, ...keys: Array<Key>) => keys.map((k) => editor.apply(k)).at(-1)
const chars = (text: string): Key => ({ name: "char", text })

describe("line editor", () => {
  test("typing, moving and deleting, emoji as one character", () => {
    const e = new LineEditor()
    type(e, chars("hi 👋"), { name: "backspace" }, { name: "left" }, chars("!"))
    expect(e.buffer).toBe("hi! ")
    type(e, { name: "home" }, { name: "delete" }, { name: "end" }, { name: "ctrl-w" })
    expect(e.buffer).toBe("")
  })

  test("Enter submits; a trailing backslash continues; Alt+Enter inserts a newline", () => {
    const e = new LineEditor()
    expect(type(e, chars("one \\"), { name: "enter" })).toEqual({ kind: "continue" })
    expect(type(e, chars("two"), { name: "newline" }, chars("three"), { name: "enter" }))
      .toEqual({ kind: "submit", text: "one \ntwo\nthree" })
  })

  test("Up and Down walk the history, keeping the line being typed; inside a multi-line input they move lines", () => {
    const e = new LineEditor(["first", "second"])
    type(e, chars("draft"), { name: "up" })
    expect(e.buffer).toBe("second")
    type(e, { name: "up" }, { name: "up" })
    expect(e.buffer).toBe("first")
    type(e, { name: "down" }, { name: "down" })
    expect(e.buffer).toBe("draft")
    const m = new LineEditor(["old"])
    type(m, chars("ab"), { name: "newline" }, chars("cd"), { name: "up" })
    expect(m.buffer).toBe("ab\ncd")
    expect(m.cursor).toBe(2)
    type(m, { name: "up" })
    expect(m.buffer).toBe("old")
  })

  test("Ctrl-C clears a line, or exits on an empty one; Ctrl-D exits only on an empty line", () => {
    const e = new LineEditor()
    expect(type(e, chars("x"), { name: "ctrl-c" })).toEqual({ kind: "cancel" })
    expect(e.buffer).toBe("")
    expect(type(e, { name: "ctrl-c" })).toEqual({ kind: "exit" })
    expect(type(e, chars("ab"), { name: "home" }, { name: "ctrl-d" })).toEqual({ kind: "continue" })
    expect(e.buffer).toBe("b")
    expect(type(new LineEditor(), { name: "ctrl-d" })).toEqual({ kind: "exit" })
  })

  test("Tab completes a unique slash command; submitted lines join the history once", () => {
    const e = new LineEditor([], completeCommand)
    // (/co is /cost, /context and /compact now: a unique prefix completes)
    type(e, chars("/cos"), { name: "tab" })
    expect(e.buffer).toBe("/cost ")
    type(e, { name: "enter" })
    e.reset()
    type(e, chars("/cost "), { name: "enter" })
    expect(e.history).toEqual(["/cost "])
  })
})

describe("frame rendering", () => {
  const frame = (buffer: string, cursor: number, columns: number, previousCursorRow = 0) =>
    renderFrame({
      buffer,
      cursor,
      columns,
      previousCursorRow,
      prompt: { text: "> ", width: 2 },
      continuation: { text: "  ", width: 2 }
    })

  test("returns to the top of the previous frame, clears, writes, and places the cursor", () => {
    const f = frame("hello", 2, 80, 3)
    expect(f.output).toBe("\x1b[3A\r\x1b[J> hello\r\x1b[4C")
    expect(f.cursorRow).toBe(0)
  })

  test("wrapped and multi-line input: the cursor row counts wrapped rows", () => {
    // "> " + 10 chars in 8 columns → 2 rows; the second line starts on row 2.
    const f = frame("abcdefghij\nxy", 13, 8)
    expect(f.cursorRow).toBe(2)
    expect(f.output.endsWith("\r\x1b[4C")).toBe(true)
  })

  test("at the right margin the wrap is forced so the cursor row is the same on every terminal", () => {
    const f = frame("abcdef", 6, 8)
    expect(f.output).toContain("abcdef \b")
    expect(f.cursorRow).toBe(1)
  })

  test("wide characters take two columns", () => {
    expect(stringWidth("日本👋a")).toBe(7)
    expect(frame("日本", 2, 80).output.endsWith("\r\x1b[6C")).toBe(true)
  })
})

describe("slash commands", () => {
  test("messages, commands with arguments, aliases, unknown with a suggestion, and // escapes", () => {
    expect(parseInput("  ")).toEqual({ kind: "empty" })
    expect(parseInput("hello /cost")).toEqual({ kind: "message", text: "hello /cost" })
    expect(parseInput("/model 2")).toEqual({ kind: "command", name: "model", arg: "2" })
    expect(parseInput("/MODEL Claude Sonnet")).toEqual({ kind: "command", name: "model", arg: "Claude Sonnet" })
    expect(parseInput("/quit")).toEqual({ kind: "command", name: "exit", arg: "" })
    expect(parseInput("/modle")).toEqual({ kind: "unknown", name: "modle", suggestion: "model" })
    expect(parseInput("/xyzzy")).toEqual({ kind: "unknown", name: "xyzzy", suggestion: undefined })
    expect(parseInput("//etc/hosts is a file")).toEqual({ kind: "message", text: "/etc/hosts is a file" })
  })
})

describe("the note on an answer cut at the output limit", () => {
  const cut: FinishEvent = { _tag: "Finish", reason: "length", rawReason: "length", usage: emptyUsage }
  test("names the entry's own field: max_tokens in droid's config.json, maxOutputTokens in settings.json", () => {
    const fromConfig = makeEntry({ displayName: "A" })
    const fromSettings = makeEntry({ displayName: "B", source: { file: "/home/u/.factory/settings.json", path: "customModels[0]" } })
    expect(finishNote(cut, fromConfig, 512)).toBe(
      "The answer was cut short at the output limit (512 tokens). Raise it with --max-tokens, or max_tokens of \"A\" in /home/u/.factory/config.json."
    )
    expect(finishNote(cut, fromSettings, 512, "/max-tokens N")).toBe(
      "The answer was cut short at the output limit (512 tokens). Raise it with /max-tokens N, or maxOutputTokens of \"B\" in /home/u/.factory/settings.json."
    )
  })
})

describe("answerText", () => {
  test("one write per network chunk: a chunk's text in one string, reasoning left out, a final newline", async () => {
    const start: LlmEvent = { _tag: "Start", requestId: undefined, model: undefined }
    const network: Array<[LlmEvent, ...Array<LlmEvent>]> = [
      [start, { _tag: "TextDelta", text: "a" }, { _tag: "ReasoningDelta", text: "r" }, { _tag: "TextDelta", text: "b" }],
      [{ _tag: "ReasoningDelta", text: "only thinking" }],
      [{ _tag: "TextDelta", text: "c" }, { _tag: "Finish", reason: "stop", rawReason: undefined, usage: emptyUsage }]
    ]
    const events = Stream.flattenArray(Stream.fromIterable(network))
    const writes = await Effect.runPromise(Stream.runCollect(Stream.chunks(answerText(events, Effect.void))))
    expect(writes).toEqual([["ab"], ["c"], ["\n"]])
  })
})
