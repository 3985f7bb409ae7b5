// Terminal input → keys. A stateful decoder: escape sequences and bracketed pastes may arrive split across reads.
// Pasted text (between ESC[200~ and ESC[201~) comes out as one `paste` key, newlines and all, so that a pasted
// block is inserted whole and never submitted line by line.

export type Key =
  | { readonly name: "char"; readonly text: string }
  | { readonly name: "paste"; readonly text: string }
  | {
    readonly name:
      | "enter"
      | "newline"
      | "backspace"
      | "delete"
      | "left"
      | "right"
      | "up"
      | "down"
      | "home"
      | "end"
      | "word-left"
      | "word-right"
      | "ctrl-c"
      | "ctrl-d"
      | "ctrl-u"
      | "ctrl-k"
      | "ctrl-w"
      | "ctrl-l"
      | "tab"
      | "escape"
  }

const PASTE_START = "\x1b[200~"
const PASTE_END = "\x1b[201~"

const CSI: Record<string, Key["name"]> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  "1~": "home",
  "7~": "home",
  "4~": "end",
  "8~": "end",
  "3~": "delete",
  "1;5C": "word-right",
  "1;5D": "word-left",
  "1;3C": "word-right",
  "1;3D": "word-left"
}

const CONTROL: Record<string, Key["name"]> = {
  "\r": "enter",
  "\n": "newline",
  "\x7f": "backspace",
  "\b": "backspace",
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x15": "ctrl-u",
  "\x0b": "ctrl-k",
  "\x17": "ctrl-w",
  "\x0c": "ctrl-l",
  "\t": "tab",
  "\x01": "home",
  "\x05": "end",
  "\x02": "left",
  "\x06": "right",
  "\x10": "up",
  "\x0e": "down"
}

export interface KeyDecoder {
  /** Decodes a chunk; an incomplete escape sequence or paste at its end is kept for the next chunk. */
  feed(chunk: string): Array<Key>
}

export const makeKeyDecoder = (): KeyDecoder => {
  let pending = ""
  let paste: string | undefined
  return {
    feed(chunk) {
      const keys: Array<Key> = []
      const s = pending + chunk
      pending = ""
      let i = 0
      let text = ""
      const flushText = () => {
        if (text !== "") keys.push({ name: "char", text })
        text = ""
      }
      while (i < s.length) {
        if (paste !== undefined) {
          const end = s.indexOf(PASTE_END, i)
          if (end < 0) {
            // Keep a possible partial end marker for the next chunk.
            const keep = partialSuffix(s.slice(i), PASTE_END)
            paste += s.slice(i, s.length - keep)
            pending = s.slice(s.length - keep)
            return keys
          }
          paste += s.slice(i, end)
          keys.push({ name: "paste", text: paste.replace(/\r\n?/g, "\n") })
          paste = undefined
          i = end + PASTE_END.length
          continue
        }
        const c = s[i]!
        if (c === "\x1b") {
          flushText()
          const rest = s.slice(i)
          if (rest.startsWith(PASTE_START)) {
            paste = ""
            i += PASTE_START.length
            continue
          }
          if (rest.length === 1 || (PASTE_START.startsWith(rest) && rest.length < PASTE_START.length)) {
            // An ESC at the end of a read may start a sequence split across reads: wait for the next byte.
            pending = rest
            return keys
          }
          const next = rest[1]!
          if (next === "[" || next === "O") {
            const m = /^\x1b[[O]([0-9;]*[~A-Za-z])/.exec(rest)
            if (m === null) {
              if (/^\x1b[[O][0-9;]*$/.test(rest)) {
                pending = rest
                return keys
              }
              i += 2
              continue
            }
            const name = CSI[m[1]!]
            if (name !== undefined) keys.push({ name } as Key)
            i += m[0].length
            continue
          }
          // Alt+key: Alt+Enter inserts a newline, Alt+b/f move by word, Alt+Backspace deletes a word. Anything else
          // after ESC was the Escape key followed by a key of its own, which is kept.
          const alt: Key["name"] | undefined = next === "\r" || next === "\n"
            ? "newline"
            : next === "b"
            ? "word-left"
            : next === "f"
            ? "word-right"
            : next === "\x7f"
            ? "ctrl-w"
            : undefined
          keys.push({ name: alt ?? "escape" } as Key)
          i += alt !== undefined ? 2 : 1
          continue
        }
        const control = CONTROL[c]
        if (control !== undefined) {
          flushText()
          keys.push({ name: control } as Key)
          i++
          continue
        }
        if (c < " ") {
          i++
          continue
        }
        text += c
        i++
      }
      flushText()
      return keys
    }
  }
}

/** How many characters at the end of `s` could be the start of `marker`. */
const partialSuffix = (s: string, marker: string): number => {
  for (let n = Math.min(marker.length - 1, s.length); n > 0; n--) {
    if (marker.startsWith(s.slice(s.length - n))) return n
  }
  return 0
}
