// JSON parsing with a position on failure. JSC's JSON.parse (Bun) says "Unexpected identifier" but not where,
// so on failure a small strict scanner walks the text to find the first offending character and says what it
// expected there. Valid text takes the fast path through JSON.parse only.

export type JsonParseResult =
  | { readonly ok: true; readonly value: unknown }
  | {
    readonly ok: false
    readonly line: number
    readonly column: number
    /** The broken line, whole: show it only through `excerpt`. */
    readonly lineText: string
    readonly detail: string
  }

export const parseJson = (text: string): JsonParseResult => {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return { ok: true, value: JSON.parse(source) }
  } catch {
    const { offset, detail } = locate(source)
    return { ok: false, ...position(source, offset), detail }
  }
}

const position = (text: string, offset: number) => {
  const before = text.slice(0, offset)
  const line = before.split("\n").length
  const lineStart = before.lastIndexOf("\n") + 1
  let lineEnd = text.indexOf("\n", lineStart)
  if (lineEnd === -1) lineEnd = text.length
  return {
    line,
    column: offset - lineStart + 1,
    lineText: text.slice(lineStart, lineEnd).replace(/\r$/, "")
  }
}

class Failure {
  constructor(readonly offset: number, readonly detail: string) {}
}

const describe = (text: string, i: number): string =>
  i >= text.length ? "end of file" : JSON.stringify(text[i])

/**
 * Finds the first syntax error. Only called when JSON.parse already failed. Iterative, with an explicit stack of
 * open containers, so that no depth of nesting can overflow the call stack; each character is looked at once.
 */
const locate = (text: string): { offset: number; detail: string } => {
  let i = 0
  const fail = (what: string): never => {
    if (text[i] === "/") throw new Failure(i, "comment (JSON allows no comments)")
    if (text[i] === "'") throw new Failure(i, "single quote (JSON strings use double quotes)")
    throw new Failure(i, `expected ${what}, found ${describe(text, i)}`)
  }
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const isDigit = (at: number) => {
    const c = text.charCodeAt(at)
    return c >= 0x30 && c <= 0x39
  }
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) {
      if (text[i] !== word[k]) fail(`"${word}"`)
      i++
    }
  }
  const string = () => {
    i++ // opening quote
    for (;;) {
      if (i >= text.length) fail("a closing quote")
      const c = text.charCodeAt(i)
      if (c === 0x22) return void i++
      if (c < 0x20) throw new Failure(i, "control character inside a string (use \\n for a newline)")
      if (c === 0x5c) {
        i++
        const e = text[i]
        if (e === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k
              fail("a hex digit in a \\u escape")
            }
          }
          i += 5
        } else if (e !== undefined && "\"\\/bfnrt".includes(e)) i++
        else fail("a valid escape")
      } else i++
    }
  }
  const number = () => {
    if (text[i] === "-") i++
    if (text[i] === "0") i++
    else if (isDigit(i) && text[i] !== "0") while (isDigit(i)) i++
    else fail("a digit")
    if (text[i] === ".") {
      i++
      if (!isDigit(i)) fail("a digit after the decimal point")
      while (isDigit(i)) i++
    }
    if (text[i] === "e" || text[i] === "E") {
      i++
      if (text[i] === "+" || text[i] === "-") i++
      if (!isDigit(i)) fail("a digit in the exponent")
      while (isDigit(i)) i++
    }
  }
  /** A property name and its colon; the value follows. */
  const key = () => {
    ws()
    if (text[i] !== "\"") fail("a property name in double quotes")
    string()
    ws()
    if (text[i] !== ":") fail("\":\"")
    i++
  }
  const open: Array<"{" | "["> = []
  try {
    value: for (;;) {
      ws()
      const c = text[i]
      if (c === "{" || c === "[") {
        i++
        ws()
        if (text[i] === (c === "{" ? "}" : "]")) i++
        else {
          open.push(c)
          if (c === "{") key()
          continue value
        }
      } else if (c === "\"") string()
      else if (c === "t") literal("true")
      else if (c === "f") literal("false")
      else if (c === "n") literal("null")
      else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) number()
      else fail("a value")
      // A value is complete: go on in the container it belongs to, closing those that end here.
      for (;;) {
        const top = open.at(-1)
        if (top === undefined) break value
        ws()
        const close = top === "{" ? "}" : "]"
        if (text[i] === ",") {
          i++
          ws()
          if (text[i] === close) throw new Failure(i, `trailing comma before "${close}" (JSON allows none)`)
          if (top === "{") key()
          continue value
        }
        if (text[i] === close) {
          i++
          open.pop()
          continue
        }
        fail(`"," or "${close}"`)
      }
    }
    ws()
    if (i < text.length) fail("end of file")
    // The scanner accepted what JSON.parse refused (e.g. a lone surrogate): point at the start.
    return { offset: 0, detail: "invalid JSON" }
  } catch (e) {
    if (e instanceof Failure) return { offset: Math.min(e.offset, text.length), detail: e.detail }
    return { offset: 0, detail: "invalid JSON" }
  }
}

/** Property names whose values are secrets: their values are never shown in an excerpt. */
const SECRET_FIELD = /("[^"\\]*(?:key|token|secret|password|passwd|authorization|credential)[^"\\]*"\s*:\s*")((?:[^"\\]|\\.)*)/gi

/**
 * Tokens that look like keys wherever they stand (a broken file may have lost the field name around one): the
 * prefixes providers give their keys, and long opaque runs of letters and digits.
 */
const KEY_LIKE = /\b(?:(?:sk|rk|pk|fk|fw|gsk|hf|xai|nvapi|csk|ghp|github_pat)[-_][A-Za-z0-9_-]{12,}|AIza[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]{32,})/g

/** How much of a line an excerpt shows around the error: enough to see it, never a whole minified file. */
export const EXCERPT_WIDTH = 120

/**
 * The part of the broken line to show: values of key-like fields masked (`"api_key": "****"`, also when the
 * string is never closed), and cut to about EXCERPT_WIDTH columns around the error. `caret` is the error's
 * column within the excerpt, from 0.
 */
export const excerpt = (lineText: string, column: number): { readonly text: string; readonly caret: number } => {
  const masked = lineText
    .replace(SECRET_FIELD, (_, name: string, value: string) => name + "*".repeat(value.length))
    .replace(KEY_LIKE, (token) => "*".repeat(token.length))
  if (masked.length <= EXCERPT_WIDTH) return { text: masked, caret: column - 1 }
  const start = Math.max(0, Math.min(column - 1 - EXCERPT_WIDTH / 2, masked.length - EXCERPT_WIDTH))
  const end = Math.min(masked.length, start + EXCERPT_WIDTH)
  const head = start > 0 ? "…" : ""
  return { text: head + masked.slice(start, end) + (end < masked.length ? "…" : ""), caret: column - 1 - start + head.length }
}
