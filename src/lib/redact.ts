// One redactor for everything byok writes: stdout, stderr, the ledger and saved sessions. It knows every secret
// the config holds (each entry's key, each extraHeaders value, registered as the files are read) and, for
// diagnostics, the shapes secrets take in headers (`Bearer …`, `x-api-key: …`). Server text is untrusted: it may
// echo a key, whole or in part.
import { Context, Layer } from "effect"

export const REDACTED = "[REDACTED]"

/**
 * Values shorter than this are not treated as secrets: local servers take placeholders such as "ollama" or
 * "lm-studio", and hiding every "ollama" in byok's own hints would help no one.
 */
export const MIN_SECRET_LENGTH = 12

/** Keys this long are also hidden by their first and last 12 characters, which servers echo in masked keys. */
const FRAGMENT_FROM = 16
const FRAGMENT = 12

/** Header-shaped secrets in diagnostics: the value after `Bearer`, and after a key-carrying header's name. */
const HEADER_SECRETS = [
  /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b((?:x-api-key|api-key|x-goog-api-key|authorization|proxy-authorization)["']?\s*[:=]\s*["']?)(?!Bearer\s)[^\s"',}]{8,}/gi
]

export interface Interface {
  /** Adds a secret (a key or a header value); short values are ignored (see MIN_SECRET_LENGTH). */
  readonly add: (secret: string) => void
  /** Text with every known secret replaced. */
  readonly redact: (text: string) => string
  /** The same, plus header-shaped secrets: for diagnostics and server error text. */
  readonly redactDiagnostic: (text: string) => string
  /**
   * For what a tool gives back to a model, the last wall: as `redact`, and a secret also when it comes reversed, in
   * another case, as hex or base64 (any alignment), split by white space or line breaks, or any run of 16 or more
   * of its characters in any of those forms.
   */
  readonly redactDeep: (text: string) => string
  /**
   * A redactor for text written in pieces (an answer as it streams): a secret split across two pieces is still
   * caught, because a piece's end that could be the start of a secret is held back until the next piece.
   */
  readonly stream: (diagnostic: boolean) => StreamRedactor
}

export interface StreamRedactor {
  /**
   * The next piece, redacted: what may be shown now. The end of it that could begin a secret waits for the next
   * piece, and so does half a character (a high surrogate whose low half is in the next piece).
   */
  readonly push: (piece: string) => string
  /** What is still held back, redacted. */
  readonly end: () => string
}

export class Redactor extends Context.Service<Redactor, Interface>()("byok/Redactor") {}

const WORD = /[A-Za-z0-9]/

const replaceAll = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  return out
}

export const make = (initial: Iterable<string> = []): Interface => {
  /** Longest first, so that a key is replaced before its own fragments. */
  let secrets: Array<string> = []
  /** The runs redactDeep looks for, lower case, each RUN long (or a whole short secret), built when a secret is added. */
  const runs = new Set<string>()
  const shortSecrets: Array<string> = []
  const addRuns = (form: string) => {
    const f = form.toLowerCase()
    if (f.length < RUN) {
      if (!shortSecrets.includes(f)) shortSecrets.push(f)
      return
    }
    for (let i = 0; i + RUN <= f.length; i++) runs.add(f.slice(i, i + RUN))
  }
  const add = (secret: string) => {
    const s = secret.trim()
    if (s.length < MIN_SECRET_LENGTH) return
    for (const form of deepForms(s)) addRuns(form)
    const pieces = s.length >= FRAGMENT_FROM ? [s, s.slice(0, FRAGMENT), s.slice(-FRAGMENT)] : [s]
    let changed = false
    for (const piece of pieces) {
      if (!secrets.includes(piece)) {
        secrets.push(piece)
        changed = true
      }
    }
    if (changed) secrets = secrets.sort((a, b) => b.length - a.length)
  }
  for (const s of initial) add(s)

  const redact = (text: string) => (secrets.length === 0 ? text : replaceAll(text, secrets))
  const redactDiagnostic = (text: string) => {
    let out = redact(text)
    for (const pattern of HEADER_SECRETS) out = out.replace(pattern, `$1${REDACTED}`)
    return out
  }

  /**
   * How many characters at the end of `text` could be the start of a known secret. Only a start at a word
   * boundary counts (keys stand apart from the words around them), so that ordinary text ending in "s" is not
   * held back waiting for "sk-…". `before` is the character written just before `text`.
   */
  const heldBack = (text: string, before: string | undefined): number => {
    let hold = 0
    for (const secret of secrets) {
      for (let n = Math.min(secret.length - 1, text.length); n > hold; n--) {
        const prev = n < text.length ? text[text.length - n - 1] : before
        if ((prev === undefined || !WORD.test(prev)) && text.endsWith(secret.slice(0, n))) {
          hold = n
          break
        }
      }
    }
    return hold
  }

  /** Whether what comes before the last `hold` characters ends with a lone high surrogate. */
  const endsInHighSurrogate = (text: string, hold: number) => {
    const at = text.length - hold - 1
    if (at < 0) return false
    const c = text.charCodeAt(at)
    return c >= 0xd800 && c <= 0xdbff
  }

  const stream = (diagnostic: boolean): StreamRedactor => {
    const clean = diagnostic ? redactDiagnostic : redact
    let carry = ""
    let before: string | undefined
    return {
      push: (piece) => {
        const text = carry === "" ? piece : carry + piece
        if (secrets.length === 0) {
          // A delta may end with the first half of a character outside the BMP (an emoji split between two
          // events); written alone it would print as "�". It waits for its other half.
          if (endsInHighSurrogate(text, 0)) {
            carry = text.slice(-1)
            return text.slice(0, -1)
          }
          carry = ""
          return text
        }
        let hold = heldBack(text, before)
        if (endsInHighSurrogate(text, hold)) hold++
        carry = text.slice(text.length - hold)
        const out = text.slice(0, text.length - hold)
        if (out !== "") before = out[out.length - 1]
        return clean(out)
      },
      end: () => {
        const rest = carry
        carry = ""
        return clean(rest)
      }
    }
  }

  const redactDeep = (text: string): string => {
    if (runs.size === 0 && shortSecrets.length === 0) return text
    // (On the text as it came: the plain redaction's own replacements would cut a run short.)
    const plain = text
    // The text without white space, lower case, each character knowing where it stood.
    const at: Array<number> = []
    let compact = ""
    for (let i = 0; i < plain.length; i++) {
      if (/\s/.test(plain[i]!)) continue
      at.push(i)
      compact += plain[i]!.toLowerCase()
    }
    const hit = new Uint8Array(compact.length)
    let any = false
    for (let i = 0; i + RUN <= compact.length; i++) {
      if (runs.has(compact.slice(i, i + RUN))) {
        hit.fill(1, i, i + RUN)
        any = true
      }
    }
    for (const short of shortSecrets) {
      for (let i = compact.indexOf(short); i >= 0; i = compact.indexOf(short, i + 1)) {
        hit.fill(1, i, i + short.length)
        any = true
      }
    }
    if (!any) return redact(plain)
    // Each stretch that matched, from its first character to its last in the original, becomes one [REDACTED].
    let out = ""
    let from = 0
    for (let i = 0; i < compact.length; i++) {
      if (hit[i] !== 1 || (i > 0 && hit[i - 1] === 1)) continue
      let j = i
      while (j + 1 < compact.length && hit[j + 1] === 1) j++
      out += plain.slice(from, at[i]) + REDACTED
      from = at[j]! + 1
      i = j
    }
    return redact(out + plain.slice(from))
  }

  return { add, redact, redactDiagnostic, redactDeep, stream }
}

/** How many characters of a secret, in a row, give it away in a tool's output. */
const RUN = 16

/** The forms a secret may be turned into by a command: itself, reversed, hex, and base64 at each alignment. */
const deepForms = (secret: string): ReadonlyArray<string> => {
  const bytes = Buffer.from(secret, "utf8")
  const forms = [secret, [...secret].reverse().join(""), bytes.toString("hex")]
  for (let shift = 0; shift < 3; shift++) {
    // base64 of the secret after 0, 1 or 2 other bytes: the characters that depend on those bytes (and on what
    // follows) are dropped from each end.
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64").replace(/=+$/, "")
    const start = shift === 0 ? 0 : Math.ceil((shift * 8 + 1) / 6)
    forms.push(encoded.slice(start, encoded.length - 2))
  }
  return forms
}

export const layer = Layer.sync(Redactor, () => Redactor.of(make()))
