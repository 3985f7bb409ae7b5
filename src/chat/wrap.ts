// Answers word-wrapped at the terminal's width as they stream: a word that would cross the right edge goes to the
// next line whole, instead of the terminal splitting it there. Output is written as it comes (nothing is held
// back): when a word being written reaches the edge, the part already on the line is taken back (cursor left,
// erase to the end of the line) and written again on the next one. Widths are the terminal's (CJK and emoji take
// two columns); escape sequences (byok's own styling) take none.
import { displayWidth } from "../lib/width.ts"

export interface WordWrap {
  /** Rendered text in; the same text with line breaks (and take-backs) where words would cross the edge. */
  readonly push: (text: string) => string
  /** How many columns are left on the line being written. */
  readonly room: () => number
}

/** An escape sequence at the start of the text: CSI (`ESC [ … final`) or any other two-character one. */
const ESCAPE = /^\x1b(?:\[[0-?]*[ -/]*[@-~]|.)/

/**
 * `columns` is read for every piece, so a resized terminal wraps at its new width. The last column is never
 * written: a terminal at the edge waits to wrap, and a take-back from there would land one column off.
 */
export const wordWrap = (columns: () => number): WordWrap => {
  let col = 0
  /** What was written of the word being written, on this line (escape sequences included), and its width. */
  let word = ""
  let wordWidth = 0
  const widthNow = () => Math.max(10, columns() - 1)
  /** Half a character (a high surrogate) at the end of the last piece: its width is known with its other half. */
  let half = ""
  return {
    room: () => Math.max(0, widthNow() - col),
    push: (piece) => {
      let text = half + piece
      half = ""
      const last = text.charCodeAt(text.length - 1)
      if (last >= 0xd800 && last <= 0xdbff) {
        half = text.slice(-1)
        text = text.slice(0, -1)
      }
      const width = widthNow()
      let out = ""
      for (let i = 0; i < text.length;) {
        if (text.charCodeAt(i) === 0x1b) {
          const seq = ESCAPE.exec(text.slice(i, i + 32))?.[0] ?? "\x1b"
          out += seq
          word += seq
          i += seq.length
          continue
        }
        const cp = text.codePointAt(i)!
        const ch = String.fromCodePoint(cp)
        i += ch.length
        if (ch === "\n" || ch === "\r") {
          out += ch
          if (ch === "\n") col = 0
          word = ""
          wordWidth = 0
          continue
        }
        if (ch === " " || ch === "\t") {
          // A space at the edge becomes the line break.
          if (col + 1 > width) {
            out += "\n"
            col = 0
          } else {
            out += ch
            col += ch === "\t" ? 8 - (col % 8) : 1
          }
          word = ""
          wordWidth = 0
          continue
        }
        const w = displayWidth(ch)
        if (col + w > width) {
          if (wordWidth > 0 && col > wordWidth && wordWidth + w <= width) {
            // Take the word back and write it again on the next line.
            out += `${"\b".repeat(wordWidth)}\x1b[K\n${word}${ch}`
            word += ch
            wordWidth += w
            col = wordWidth
          } else {
            // A word as long as the line (a URL, a hash): broken at the edge, as the terminal would.
            out += `\n${ch}`
            word = ch
            wordWidth = w
            col = w
          }
          continue
        }
        out += ch
        word += ch
        wordWidth += w
        col += w
      }
      return out
    }
  }
}
