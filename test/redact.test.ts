// The redactor: known secrets, their fragments, header-shaped secrets, and secrets split across streamed pieces.
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { make, REDACTED } from "../src/lib/redact.ts"
import { cutAt } from "./lib/chunks.ts"
import { CANARY } from "./lib/provider.ts"

const HEADER_VALUE = "hv-0123456789-secret-header"

describe("redactor", () => {
  test("every known secret and its long fragments are replaced; placeholders shorter than 12 are left", () => {
    const r = make([CANARY, HEADER_VALUE, "ollama"])
    expect(r.redact(`key ${CANARY} and ${HEADER_VALUE}`)).toBe(`key ${REDACTED} and ${REDACTED}`)
    // Servers echo masked keys: a long visible head or tail is hidden too.
    expect(r.redact(`Incorrect API key provided: ${CANARY.slice(0, 14)}...${CANARY.slice(-12)}`)).not.toContain(
      CANARY.slice(0, 12)
    )
    expect(r.redact("start it with `ollama serve`")).toBe("start it with `ollama serve`")
  })

  test("diagnostics also hide header-shaped secrets of keys byok was never told", () => {
    const r = make()
    expect(r.redactDiagnostic("upstream said Authorization: Bearer zz-unknown-key-123456")).toBe(
      `upstream said Authorization: Bearer ${REDACTED}`
    )
    expect(r.redactDiagnostic(`{"x-api-key":"abcdefgh12345678"}`)).toBe(`{"x-api-key":"${REDACTED}"}`)
    expect(r.redactDiagnostic("api-key = plainvalue-987654321")).toBe(`api-key = ${REDACTED}`)
    expect(r.redact("Authorization: Bearer zz-unknown-key-123456")).toContain("zz-unknown")
  })

  test("property: a secret split anywhere across streamed pieces never comes out whole, nor its head or tail", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        fc.array(fc.nat({ max: 200 }), { maxLength: 6 }),
        fc.constantFrom(" ", "\"", ":", "\n", "="),
        (before, after, cuts, sep) => {
          const r = make([CANARY])
          const text = `${before}${sep}${CANARY}${sep}${after}`
          const pieces = cutAt(text, cuts)
          const s = r.stream(false)
          const out = pieces.map((p) => s.push(p)).join("") + s.end()
          return !out.includes(CANARY) && !out.includes(CANARY.slice(0, 12)) && !out.includes(CANARY.slice(-12))
        }
      ),
      { numRuns: 500 }
    )
  })

  test("property: text with no secret in it streams out unchanged, whatever the pieces", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 10 }), (pieces) => {
        const text = pieces.join("")
        fc.pre(!text.includes(CANARY.slice(0, 12)) && !text.includes(CANARY.slice(-12)))
        const s = make([CANARY]).stream(false)
        return pieces.map((p) => s.push(p)).join("") + s.end() === text
      })
    )
  })

  test("ordinary words are not held back waiting for a secret that starts with the same letters", () => {
    const s = make([CANARY]).stream(false)
    expect(s.push("a partial ans")).toBe("a partial ans")
    expect(s.push(" then sk-can")).toBe(" then ")
    expect(s.push("did")).toBe("sk-candid")
  })
})

describe("14. a character split across two deltas", () => {
  test("half a surrogate pair at the end of a piece waits for the other half, with secrets known or not", () => {
    for (const r of [make(), make([CANARY])]) {
      const s = r.stream(false)
      const first = s.push("smile \ud83d")
      expect(first).toBe("smile ")
      expect(first + s.push("\ude00 done") + s.end()).toBe("smile 😀 done")
    }
  })
  test("property: any cut of text with emoji gives no lone surrogate in any piece, and the whole text", () => {
    fc.assert(fc.property(fc.array(fc.constantFrom("a", " ", "😀", "𝕏", "中", "é")), fc.array(fc.nat()), fc.boolean(), (chars, cuts, known) => {
      const text = chars.join("")
      const s = make(known ? [CANARY] : []).stream(false)
      const pieces = [...cutAt(text, cuts).map((p) => s.push(p)), s.end()]
      for (const p of pieces) expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(p)).toBe(false)
      expect(pieces.join("")).toBe(text)
    }), { numRuns: 500 })
  })
})
