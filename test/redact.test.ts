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

describe("the last wall: a key in a tool's output, in any form a command can give it", () => {
  const KEY = "sk-canary-9f8e7d6c5b4a39281706abcdefXYZ"
  const b64 = (s: string) => Buffer.from(s).toString("base64")
  test("reversed, in upper or lower case, as hex, as base64 at each alignment, split by spaces or lines, any 16 of its characters", () => {
    const r = make([KEY])
    const forms = [
      [...KEY].reverse().join(""), KEY.toUpperCase(), KEY.toLowerCase(), Buffer.from(KEY).toString("hex"),
      b64(KEY), b64(`x${KEY}`), b64(`xy${KEY}`), b64(`OPENAI_API_KEY=${KEY}\nPATH=/usr/bin`),
      KEY.match(/.{1,5}/g)!.join("\n"), KEY.split("").join(" "), KEY.slice(3, 22), KEY.slice(-16), KEY.slice(10, 26),
      "00000000: 736b 2d63 616e 6172 792d 3966 3865 3764  sk-canary-9f8e7d"
    ]
    for (const form of forms) {
      const out = r.redactDeep(`before ${form} after`)
      expect(out).toContain(REDACTED)
      expect(out.startsWith("before ")).toBe(true)
      expect(out.endsWith(" after")).toBe(true)
      // nothing of 8 or more of the key's characters, in any of its forms, is left
      const left = out.replace(/\s/g, "").toLowerCase()
      for (const f of [KEY, [...KEY].reverse().join(""), Buffer.from(KEY).toString("hex")]) {
        for (let i = 0; i + 16 <= f.length; i++) expect(left.includes(f.slice(i, i + 16).toLowerCase())).toBe(false)
      }
    }
  })
  test("ordinary output is left as it is; a short secret is matched whole", () => {
    const r = make([KEY, "short-key-12"])
    const text = "total 48\ndrwxr-xr-x 2 root root 4096 Dec  7 src\n1234567890abcdef hello world\n"
    expect(r.redactDeep(text)).toBe(text)
    expect(r.redactDeep("x SHORT-KEY-12 y")).toBe(`x ${REDACTED} y`)
  })
  test("property: the key in a random form, anywhere in random text, never leaves 16 of its characters", () => {
    const r = make([KEY])
    const FORMS = [(k: string) => k, (k: string) => [...k].reverse().join(""), (k: string) => k.toUpperCase(), (k: string) => Buffer.from(k).toString("hex"), (k: string) => k.split("").join("\n")]
    fc.assert(fc.property(fc.string(), fc.string(), fc.nat(FORMS.length - 1), fc.nat(3), (pre, post, form, shift) => {
      const shown = form === 0 && shift > 0 ? b64(`${"x".repeat(shift - 1)}${KEY}`) : FORMS[form]!(KEY)
      const out = r.redactDeep(`${pre}${shown}${post}`).replace(/\s/g, "").toLowerCase()
      for (let i = 0; i + 16 <= KEY.length; i++) expect(out.includes(KEY.slice(i, i + 16).toLowerCase())).toBe(false)
    }), { numRuns: 300 })
  })
})
