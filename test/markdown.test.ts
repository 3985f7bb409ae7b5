// The chat's Markdown renderer: what it draws, and that the way an answer is cut into network chunks changes
// nothing (a code fence split across chunks included), while no more than the line being written is held back.
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { colours, markdownStream, plain } from "../src/chat/markdown.ts"
import { cutAt } from "./lib/chunks.ts"

const ANSWER = [
  "# Setting up",
  "",
  "Run **this** once, then *that* with `npm ci` ([docs](https://docs.npmjs.com)).",
  "",
  "- first step",
  "- [x] done",
  "2. second",
  "> a quote",
  "",
  "```ts",
  "const answer = 42 // the answer",
  "return \"text\"",
  "```",
  "---",
  "The end."
].join("\n")

const render = (pieces: ReadonlyArray<string>, style = plain) => {
  const md = markdownStream(style)
  return pieces.map((p) => md.push(p)).join("") + md.end()
}

describe("markdown in the chat", () => {
  test("headings, emphasis, code, links, lists, tasks, quotes, fences and rules, without their syntax", () => {
    expect(render([ANSWER])).toBe([
      "# Setting up",
      "",
      "Run **this** once, then that with `npm ci` (docs (https://docs.npmjs.com)).",
      "",
      "• first step",
      "• ☑ done",
      "2. second",
      "│ a quote",
      "",
      "╭─ ts",
      "│ const answer = 42 // the answer",
      "│ return \"text\"",
      "╰─",
      "─".repeat(40),
      "The end."
    ].join("\n"))
  })

  test("with colour: bold, italic, inline code, and highlighted code", () => {
    const out = render([ANSWER], colours)
    expect(out).toContain("\x1b[1mthis\x1b[22m")
    expect(out).toContain("\x1b[3mthat\x1b[23m")
    expect(out).toContain("\x1b[36mnpm ci\x1b[39m")
    expect(out).toContain("\x1b[35mconst\x1b[39m answer = \x1b[33m42\x1b[39m \x1b[2m// the answer\x1b[22m")
  })

  test("a code fence split across network chunks renders as if it came whole", () => {
    const at = ANSWER.indexOf("```ts") + 2
    expect(render([ANSWER.slice(0, at), ANSWER.slice(at, at + 3), ANSWER.slice(at + 3)], colours)).toBe(render([ANSWER], colours))
  })

  /** What a terminal shows: each character with the styles in force on it (so "bold(S)bold(etting)" = "bold(Setting)"). */
  const cells = (out: string) => {
    const result: Array<string> = []
    let on = new Set<string>()
    const offOf: Record<string, string> = { "22": "1", "23": "3", "24": "4", "29": "9", "39": "fg" }
    for (let i = 0; i < out.length; i++) {
      const sgr = /^\x1b\[(\d+)m/.exec(out.slice(i))
      if (sgr !== null) {
        const code = sgr[1]!
        on = new Set(on)
        if (offOf[code] !== undefined) {
          if (code === "22") on.delete("2")
          on.delete(offOf[code]!)
          if (code === "39") for (const c of [...on]) if (/^3\d$/.test(c)) on.delete(c)
        } else on.add(code)
        i += sgr[0].length - 1
        continue
      }
      result.push(`${out[i]}${[...on].sort().join(",")}`)
    }
    return result
  }

  test("property: any cutting of the answer into chunks gives the same screen", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: ANSWER.length }), { maxLength: 12 }), (at) => {
        const pieces = cutAt(ANSWER, at)
        expect(cells(render(pieces, colours))).toEqual(cells(render([ANSWER], colours)))
        expect(render(pieces, plain)).toBe(render([ANSWER], plain))
      }),
      { numRuns: 300 }
    )
  })

  // Markers that pair with ones far behind them, links that begin inside a word, runs of backticks, headings still
  // gathering their spaces: text made of Markdown's own pieces finds what prose would take years to.
  const markdownish = fc
    .array(
      fc.constantFrom("a", "b", " ", "\n", "*", "**", "_", "`", "``", "[x]", "](u)", "(", ")", "#", "# ", "> ", "- ",
        "1. ", "```", "~~", "http://e.x", "\\", "| ", "|-|", " |"),
      { maxLength: 30 }
    )
    .map((parts) => parts.join(""))

  test("property: any cutting of any Markdown-like text gives the same screen", () => {
    fc.assert(
      fc.property(markdownish, fc.array(fc.nat({ max: 200 }), { maxLength: 6 }), (text, at) => {
        const pieces = cutAt(text, at)
        expect(render(pieces, plain)).toBe(render([text], plain))
        expect(cells(render(pieces, colours))).toEqual(cells(render([text], colours)))
      }),
      { numRuns: 3000 }
    )
  })

  test("texts the property once found to differ when cut", () => {
    const found: ReadonlyArray<readonly [string, number]> = [
      ["_**_**a*", 7], // balanced-looking markers that a later "*" pairs with
      ["ahttp://e.x\\_", 3], // a link that starts inside a word
      ["`a```a```", 6], // a code span closed only by a run as long as its opening
      ["(**#*\n", 1], // whether "**" opens depends on the character before it
      ["a*[x]**", 1],
      ["#  ", 2], // a heading's spaces
      ["1.  ", 2], // an item's
      ["> *a*aaa", 6], // emphasis inside a quote, which is italic as a whole
      ["# a **b** c", 8] // bold inside a heading, which is bold as a whole
    ]
    for (const [text, at] of found) {
      expect(render(cutAt(text, [at]), plain)).toBe(render([text], plain))
      expect(cells(render(cutAt(text, [at]), colours))).toEqual(cells(render([text], colours)))
    }
  })

  test("a line is shown as it comes, except where an inline construct is still open", () => {
    const md = markdownStream(colours)
    expect(md.push("first line\nsecond li")).toBe("first line\nsecond li")
    expect(md.push("ne\n")).toBe("ne\n")
    expect(md.push("some **bo")).toBe("some ")
    expect(md.push("ld** and https://exa")).toBe("\x1b[1mbold\x1b[22m and ")
    expect(md.push("mple.com\n")).toBe("\x1b[4mhttps://example.com\x1b[24m\n")
    expect(md.push("unfinished")).toBe("unfinished")
    expect(md.end()).toBe("")
  })
})
