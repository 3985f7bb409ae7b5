// Word wrap in the chat: what a terminal shows after the wrapper's output (take-backs included) has every word
// whole on one line, in order, within the width, however the answer was cut into pieces.
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { wordWrap } from "../src/chat/wrap.ts"
import { displayWidth } from "../src/lib/width.ts"
import { cutAt } from "./lib/chunks.ts"

/** A terminal of `columns` columns, enough of one for this: printing, \n, \b, ESC[K, other escapes ignored. */
const screen = (output: string, columns: number): Array<string> => {
  const lines: Array<Array<string>> = [[]]
  let row = 0
  let col = 0
  for (let i = 0; i < output.length;) {
    const esc = /^\x1b(?:\[[0-?]*[ -/]*[@-~]|.)/.exec(output.slice(i))
    if (esc !== null) {
      if (esc[0] === "\x1b[K") lines[row]!.length = col
      i += esc[0].length
      continue
    }
    const ch = String.fromCodePoint(output.codePointAt(i)!)
    i += ch.length
    if (ch === "\n") {
      row++
      col = 0
      lines[row] ??= []
      continue
    }
    if (ch === "\b") {
      col = Math.max(0, col - 1)
      continue
    }
    const w = displayWidth(ch)
    if (col + w > columns) throw new Error(`the terminal would wrap: column ${col} + ${w} > ${columns}`)
    lines[row]![col] = ch
    for (let k = 1; k < w; k++) lines[row]![col + k] = ""
    col += w
  }
  return lines.map((l) => l.join("").trimEnd())
}

describe("wordWrap", () => {
  test("a word that would cross the edge goes to the next line whole; colours come with it", () => {
    const wrap = wordWrap(() => 21)
    const out = wrap.push("the quick brown fox \x1b[1mjumps\x1b[22m over the lazy dog")
    expect(screen(out, 21)).toEqual(["the quick brown fox", "jumps over the lazy", "dog"])
  })
  // Words of at most 24 columns, on lines of at least 25: a word longer than the line is broken at the edge.
  test("property: pieces cut anywhere, CJK and emoji included: words whole, in order, within the width", () => {
    const wordArb = fc.array(fc.constantFrom("a", "b", "é", "中", "😀", "x"), { minLength: 1, maxLength: 12 }).map((c) => c.join(""))
    fc.assert(fc.property(fc.array(wordArb, { minLength: 1, maxLength: 40 }), fc.array(fc.nat()), fc.integer({ min: 26, max: 60 }), (words, cuts, columns) => {
      const text = words.join(" ")
      const wrap = wordWrap(() => columns)
      const out = cutAt(text, cuts).map((p) => wrap.push(p)).join("")
      const lines = screen(out, columns - 1)
      expect(lines.join(" ").split(/\s+/).filter((w) => w !== "")).toEqual(words)
      for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(columns - 1)
    }), { numRuns: 500 })
  })
})

test("a word longer than the line is broken at the edge, and nothing crosses it", () => {
  const wrap = wordWrap(() => 11)
  const lines = screen(wrap.push("ok https://example.com/a/long/path end"), 10)
  for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(10)
  expect(lines.join("").replace(/ /g, "")).toBe("okhttps://example.com/a/long/pathend")
  expect(lines[0]).toBe("ok")
})
