// Model and server text on a terminal: no control sequence or character but newline and tab gets through, however
// the text is cut into pieces.
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { controlStripper, stripControls } from "../src/lib/controls.ts"
import { cutAt } from "./lib/chunks.ts"

const ESC = "\x1b"

describe("stripControls", () => {
  test("title, clear screen, cursor moves, colours, bare \\r and other controls are removed; text, \\n, \\t kept", () => {
    expect(stripControls(`a${ESC}]0;TITLE\x07b`)).toBe("ab")
    expect(stripControls(`a${ESC}]8;;http://x${ESC}\\link${ESC}]8;;${ESC}\\b`)).toBe("alinkb")
    expect(stripControls(`${ESC}[2J${ESC}[H${ESC}[10;20Hx${ESC}[31mred${ESC}[0m`)).toBe("xred")
    expect(stripControls(`${ESC}[?1049h${ESC}[?25l hidden`)).toBe(" hidden")
    expect(stripControls("line one\rOVERWRITE\n\tnext\x08\x07\x00\x7f")).toBe("line oneOVERWRITE\n\tnext")
    expect(stripControls(`\x9b2J\x9d0;t\x07ok${ESC}c${ESC}7${ESC}(B.`)).toBe("ok.")
    expect(stripControls(`${ESC}P1$r${ESC}\\dcs gone`)).toBe("dcs gone")
    expect(stripControls("héllo 世界 🙂 — “quotes”\n")).toBe("héllo 世界 🙂 — “quotes”\n")
  })
  test("bidirectional overrides and isolates are removed, so a line reads as it is", () => {
    expect(stripControls("rm -rf \u202e/ fi\u202c safe \u2066x\u2069 \u202a\u202b\u202d\u2067\u2068")).toBe("rm -rf / fi safe x ")
    expect(stripControls("עברית and English")).toBe("עברית and English")
  })
  test("an OSC never closed does not swallow the lines after it", () => {
    expect(stripControls(`start${ESC}]0;no end\nthe rest`)).toBe("start\nthe rest")
  })
  test("a sequence split across pieces is removed whole", () => {
    const s = controlStripper()
    expect(s.push(`ab${ESC}`) + s.push("]0;ti") + s.push("tle\x07cd") + s.push(`${ESC}[`) + s.push("2Je")).toBe("abcde")
  })
  test("property: any cut of any text gives what the whole gives, and nothing but \\n and \\t below space", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(`${ESC}]0;T\x07`, `${ESC}[2J`, `${ESC}[1;31m`, "\r", "\x07", `${ESC}`, "\x9b", `${ESC}]8;;u${ESC}\\`, "\n", "\t")
    )
    fc.assert(fc.property(fc.array(piece), fc.array(fc.nat()), (pieces, cuts) => {
      const text = pieces.join("")
      const whole = stripControls(text)
      const s = controlStripper()
      const streamed = cutAt(text, cuts).map((p) => s.push(p)).join("")
      expect(streamed).toBe(whole)
      expect(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(whole)).toBe(false)
    }), { numRuns: 1000 })
  })
})

test("a tool call's line on the screen: a made-up tool name and its subject carry no control sequence", async () => {
  const { callLine } = await import("../src/cli/calls.ts")
  const { runCall } = await import("../src/tools/registry.ts")
  const { Effect } = await import("effect")
  const call = { type: "tool-call" as const, id: "c1", name: "\x1b]0;owned\x07Read\x1b[2J", arguments: "{}", kind: "function" }
  const outcome = await Effect.runPromise(runCall(call as never, [], { cwd: "/", level: "off" } as never, (s) => s))
  const line = callLine(outcome, false)
  expect(line).toContain("! Read · no such tool")
  expect(line).not.toContain("\x1b]")
  expect(line).not.toContain("\x1b[2J")
  expect(line).not.toContain("\x07")
})

test("a call's diff on the screen is capped: its first and last lines, each line cut to a width, the cuts said", async () => {
  const { callLine } = await import("../src/cli/calls.ts")
  const { Create } = await import("../src/tools/edit.ts")
  const { Effect } = await import("effect")
  const { mkdtempSync } = await import("node:fs")
  const { tmpdir } = await import("node:os")
  const { join } = await import("node:path")
  const dir = mkdtempSync(join(tmpdir(), "byok-diff-"))
  const huge = `${"x".repeat(2_000_000)}\n${Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join("\n")}\n`
  const made = await Effect.runPromise(Create.run({ file_path: "big.txt", content: huge }, { cwd: dir, level: "low", rules: { allow: [], deny: [] } }))
  const line = callLine({ ...made, call: { type: "tool-call", kind: "function", id: "c", name: "Create", arguments: "{}" }, tool: Create, subject: "big.txt", refused: false }, false)
  expect(line.length).toBeLessThan(5_000)
  expect(line).toContain("characters not shown]")
  expect(line).toMatch(/\[… \d+ lines not shown …\]/)
  expect(line).toContain("+line 99999")
})
