// The chat's line editor: a pure state machine over keys (multi-line buffer, cursor, history, Tab completion of
// slash commands) and a renderer that turns its state into the bytes that redraw the prompt in place, wrapping
// and wide characters included. No I/O here: chat.ts feeds keys in and writes frames out.
import type { Key } from "./keys.ts"

export type EditorAction =
  | { readonly kind: "continue" }
  | { readonly kind: "submit"; readonly text: string }
  /** Ctrl-C on a non-empty line: the line was cleared. */
  | { readonly kind: "cancel" }
  /** Ctrl-C on an empty line, or Ctrl-D on an empty line. */
  | { readonly kind: "exit" }
  | { readonly kind: "clear-screen" }

const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff
const prev = (s: string, i: number) => (i >= 2 && isLow(s.charCodeAt(i - 1)) ? i - 2 : Math.max(0, i - 1))
const next = (s: string, i: number) => (i < s.length - 1 && isLow(s.charCodeAt(i + 1)) ? i + 2 : Math.min(s.length, i + 1))

/** Display width of one code point: 0 for combining marks and zero-width characters, 2 for wide ones. */
export const charWidth = (cp: number): number => {
  if (cp < 0x300) return 1
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd)
  ) return 2
  return 1
}

export const stringWidth = (s: string): number => {
  let w = 0
  for (const ch of s) w += charWidth(ch.codePointAt(0)!)
  return w
}

export class LineEditor {
  buffer = ""
  cursor = 0
  private historyIndex: number
  private draft = ""

  constructor(
    readonly history: Array<string> = [],
    private readonly complete: (prefix: string) => string | undefined = () => undefined
  ) {
    this.historyIndex = history.length
  }

  /** Starts a new line, keeping anything typed ahead while the previous answer streamed. */
  reset(typedAhead = "") {
    this.buffer = typedAhead
    this.cursor = typedAhead.length
    this.historyIndex = this.history.length
    this.draft = ""
  }

  private insert(text: string) {
    this.buffer = this.buffer.slice(0, this.cursor) + text + this.buffer.slice(this.cursor)
    this.cursor += text.length
  }

  private lineStart() {
    return this.buffer.lastIndexOf("\n", this.cursor - 1) + 1
  }

  private lineEnd() {
    const i = this.buffer.indexOf("\n", this.cursor)
    return i < 0 ? this.buffer.length : i
  }

  /** Moves the cursor one line up or down, keeping its column; false when already on the first/last line. */
  private verticalMove(dir: -1 | 1): boolean {
    const start = this.lineStart()
    const column = this.cursor - start
    if (dir < 0) {
      if (start === 0) return false
      const prevStart = this.buffer.lastIndexOf("\n", start - 2) + 1
      this.cursor = Math.min(prevStart + column, start - 1)
    } else {
      const end = this.lineEnd()
      if (end === this.buffer.length) return false
      const nextEnd = this.buffer.indexOf("\n", end + 1)
      this.cursor = Math.min(end + 1 + column, nextEnd < 0 ? this.buffer.length : nextEnd)
    }
    return true
  }

  private recall(index: number) {
    if (index < 0 || index > this.history.length) return
    if (this.historyIndex === this.history.length) this.draft = this.buffer
    this.historyIndex = index
    this.buffer = index === this.history.length ? this.draft : this.history[index]!
    this.cursor = this.buffer.length
  }

  apply(key: Key): EditorAction {
    switch (key.name) {
      case "char":
        this.insert(key.text)
        return { kind: "continue" }
      case "paste":
        this.insert(key.text)
        return { kind: "continue" }
      case "newline":
        this.insert("\n")
        return { kind: "continue" }
      case "enter": {
        // A line ending in a backslash continues on the next line.
        if (this.cursor === this.buffer.length && this.buffer.endsWith("\\")) {
          this.buffer = `${this.buffer.slice(0, -1)}\n`
          this.cursor = this.buffer.length
          return { kind: "continue" }
        }
        const text = this.buffer
        if (text.trim() !== "" && this.history.at(-1) !== text) this.history.push(text)
        return { kind: "submit", text }
      }
      case "backspace":
        if (this.cursor > 0) {
          const p = prev(this.buffer, this.cursor)
          this.buffer = this.buffer.slice(0, p) + this.buffer.slice(this.cursor)
          this.cursor = p
        }
        return { kind: "continue" }
      case "delete":
        if (this.cursor < this.buffer.length) {
          this.buffer = this.buffer.slice(0, this.cursor) + this.buffer.slice(next(this.buffer, this.cursor))
        }
        return { kind: "continue" }
      case "left":
        this.cursor = prev(this.buffer, this.cursor)
        return { kind: "continue" }
      case "right":
        this.cursor = next(this.buffer, this.cursor)
        return { kind: "continue" }
      case "home":
        this.cursor = this.lineStart()
        return { kind: "continue" }
      case "end":
        this.cursor = this.lineEnd()
        return { kind: "continue" }
      case "word-left": {
        let i = this.cursor
        while (i > 0 && /\s/.test(this.buffer[i - 1]!)) i--
        while (i > 0 && !/\s/.test(this.buffer[i - 1]!)) i--
        this.cursor = i
        return { kind: "continue" }
      }
      case "word-right": {
        let i = this.cursor
        while (i < this.buffer.length && /\s/.test(this.buffer[i]!)) i++
        while (i < this.buffer.length && !/\s/.test(this.buffer[i]!)) i++
        this.cursor = i
        return { kind: "continue" }
      }
      case "up":
        if (!this.verticalMove(-1)) this.recall(this.historyIndex - 1)
        return { kind: "continue" }
      case "down":
        if (!this.verticalMove(1)) this.recall(this.historyIndex + 1)
        return { kind: "continue" }
      case "ctrl-u": {
        const start = this.lineStart()
        this.buffer = this.buffer.slice(0, start) + this.buffer.slice(this.cursor)
        this.cursor = start
        return { kind: "continue" }
      }
      case "ctrl-k":
        this.buffer = this.buffer.slice(0, this.cursor) + this.buffer.slice(this.lineEnd())
        return { kind: "continue" }
      case "ctrl-w": {
        let i = this.cursor
        while (i > 0 && /\s/.test(this.buffer[i - 1]!)) i--
        while (i > 0 && !/\s/.test(this.buffer[i - 1]!)) i--
        this.buffer = this.buffer.slice(0, i) + this.buffer.slice(this.cursor)
        this.cursor = i
        return { kind: "continue" }
      }
      case "ctrl-c":
        if (this.buffer === "") return { kind: "exit" }
        this.reset()
        return { kind: "cancel" }
      case "ctrl-d":
        if (this.buffer === "") return { kind: "exit" }
        return this.apply({ name: "delete" })
      case "ctrl-l":
        return { kind: "clear-screen" }
      case "tab": {
        const completed = this.cursor === this.buffer.length ? this.complete(this.buffer) : undefined
        if (completed !== undefined) {
          this.buffer = completed
          this.cursor = completed.length
        }
        return { kind: "continue" }
      }
      case "escape":
        return { kind: "continue" }
    }
  }
}

export interface Frame {
  /** The bytes to write. */
  readonly output: string
  /** The cursor's row below the top of the input after the frame, needed by the next frame to find the top. */
  readonly cursorRow: number
}

/**
 * Redraws the input in place: back to its top row, clear to the end of the screen, write the prompt and buffer
 * (continuation lines get `continuation`), then put the cursor where it belongs. `prompt` and `continuation` may
 * carry colour codes; their display widths are given.
 */
export const renderFrame = (options: {
  readonly buffer: string
  readonly cursor: number
  readonly prompt: { readonly text: string; readonly width: number }
  readonly continuation: { readonly text: string; readonly width: number }
  readonly columns: number
  readonly previousCursorRow: number
}): Frame => {
  const cols = Math.max(1, options.columns)
  const lines = options.buffer.split("\n")
  let out = (options.previousCursorRow > 0 ? `\x1b[${options.previousCursorRow}A` : "") + "\r\x1b[J"
  let row = 0
  let cursorRow = 0
  let cursorCol = 0
  let offset = 0
  lines.forEach((line, i) => {
    const prefix = i === 0 ? options.prompt : options.continuation
    if (i > 0) out += "\r\n"
    out += prefix.text + line
    if (options.cursor >= offset && options.cursor <= offset + line.length) {
      const w = prefix.width + stringWidth(line.slice(0, options.cursor - offset))
      cursorRow = row + Math.floor(w / cols)
      cursorCol = w % cols
    }
    const width = prefix.width + stringWidth(line)
    if (i === lines.length - 1) {
      // At the right margin the terminal defers the wrap; a space and a backspace make it happen now, so the
      // cursor's row is the same whatever the terminal.
      if (width > 0 && width % cols === 0) out += " \b"
      const endRow = row + Math.floor(width / cols)
      if (endRow > cursorRow) out += `\x1b[${endRow - cursorRow}A`
      out += "\r"
      if (cursorCol > 0) out += `\x1b[${cursorCol}C`
    } else {
      // A line exactly as wide as the terminal takes one row: the "\r\n" after it clears the deferred wrap.
      row += Math.max(1, Math.ceil(width / cols))
    }
    offset += line.length + 1
  })
  return { output: out, cursorRow }
}
