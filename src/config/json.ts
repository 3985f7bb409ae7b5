// JSON parsing with a position on failure. JSC's JSON.parse (Bun) says "Unexpected identifier" but not where,
// so on failure a small strict scanner walks the text to find the first offending character and says what it
// expected there. Valid text takes the fast path through JSON.parse only.

export type JsonParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly line: number; readonly column: number; readonly lineText: string; readonly detail: string }

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

/** Finds the first syntax error. Only called when JSON.parse already failed. */
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
    else if (/[1-9]/.test(text[i] ?? "")) while (/[0-9]/.test(text[i] ?? "")) i++
    else fail("a digit")
    if (text[i] === ".") {
      i++
      if (!/[0-9]/.test(text[i] ?? "")) fail("a digit after the decimal point")
      while (/[0-9]/.test(text[i] ?? "")) i++
    }
    if (text[i] === "e" || text[i] === "E") {
      i++
      if (text[i] === "+" || text[i] === "-") i++
      if (!/[0-9]/.test(text[i] ?? "")) fail("a digit in the exponent")
      while (/[0-9]/.test(text[i] ?? "")) i++
    }
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === "{") {
      i++
      ws()
      if (text[i] === "}") return void i++
      for (;;) {
        ws()
        if (text[i] !== "\"") {
          if (text[i] === "}") throw new Failure(i, "trailing comma before \"}\" (JSON allows none)")
          fail("a property name in double quotes")
        }
        string()
        ws()
        if (text[i] !== ":") fail("\":\"")
        i++
        value()
        ws()
        if (text[i] === ",") {
          i++
          continue
        }
        if (text[i] === "}") return void i++
        fail("\",\" or \"}\"")
      }
    }
    if (c === "[") {
      i++
      ws()
      if (text[i] === "]") return void i++
      for (;;) {
        ws()
        if (text[i] === "]") throw new Failure(i, "trailing comma before \"]\" (JSON allows none)")
        value()
        ws()
        if (text[i] === ",") {
          i++
          continue
        }
        if (text[i] === "]") return void i++
        fail("\",\" or \"]\"")
      }
    }
    if (c === "\"") return string()
    if (c === "t") return literal("true")
    if (c === "f") return literal("false")
    if (c === "n") return literal("null")
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number()
    fail("a value")
  }
  try {
    value()
    ws()
    if (i < text.length) fail("end of file")
    // The scanner accepted what JSON.parse refused (e.g. a lone surrogate): point at the start.
    return { offset: 0, detail: "invalid JSON" }
  } catch (e) {
    if (e instanceof Failure) return { offset: Math.min(e.offset, text.length), detail: e.detail }
    return { offset: 0, detail: "invalid JSON" }
  }
}
