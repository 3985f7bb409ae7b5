// Text from a model or a server, made safe to write to a terminal: every control sequence (CSI, OSC, DCS, SOS, PM,
// APC, in their 7-bit ESC forms and 8-bit C1 forms) and every control character except newline and tab is removed,
// so an answer cannot set the window title, clear the screen, move the cursor or overwrite a line with a bare \r;
// bidirectional overrides go too.
// The streaming form keeps its place across pieces: a sequence split between two deltas is still removed whole.

/** Where the scanner is: in text, after ESC, in a CSI sequence, or in a string sequence (OSC, DCS…) up to its end. */
type State = "text" | "esc" | "escIntermediate" | "csi" | "string" | "stringEsc"

export interface ControlStripper {
  /** The safe part of the next piece (what belongs to an unfinished sequence is dropped as it comes). */
  readonly push: (text: string) => string
}

export const controlStripper = (): ControlStripper => {
  let state: State = "text"
  return {
    push: (text) => {
      let out = ""
      let start = 0
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        if (state === "text") {
          // Printable: kept (copied in runs, not a character at a time).
          // Bidirectional overrides and isolates (U+202A–202E, U+2066–2069) reorder what is shown: a line could read
          // differently from what it holds.
          if (((c >= 0x20 && c < 0x7f) || c > 0x9f || c === 0x0a || c === 0x09) && !(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069)) continue
          out += text.slice(start, i)
          start = i + 1
          if (c === 0x1b) state = "esc"
          else if (c === 0x9b) state = "csi"
          else if (c === 0x90 || c === 0x98 || c === 0x9d || c === 0x9e || c === 0x9f) state = "string"
          // any other C0, DEL or C1 character is dropped
          continue
        }
        start = i + 1
        switch (state) {
          case "esc":
            if (c === 0x5b) state = "csi" // [
            else if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) state = "string" // ] P X ^ _
            else if (c >= 0x20 && c <= 0x2f) state = "escIntermediate"
            else if (c === 0x1b) state = "esc"
            else state = "text" // a final byte (ESC c, ESC 7…) or anything else ends it, dropped
            break
          case "escIntermediate":
            if (!(c >= 0x20 && c <= 0x2f)) state = "text"
            break
          case "csi":
            // parameters and intermediates go on; a final byte (or anything out of place) ends it
            if (!(c >= 0x20 && c <= 0x3f)) state = c === 0x1b ? "esc" : "text"
            break
          case "string":
          case "stringEsc":
            // ends at BEL or ST (ESC \ or 0x9C); a newline ends it too, so that a sequence never closed does not
            // swallow the rest of the answer (the newline is kept)
            if (c === 0x07 || c === 0x9c || (state === "stringEsc" && c === 0x5c)) state = "text"
            else if (c === 0x0a) {
              state = "text"
              start = i
            } else state = c === 0x1b ? "stringEsc" : "string"
            break
        }
      }
      if (state === "text") out += text.slice(start)
      return out
    }
  }
}

/** One piece of text, safe for a terminal (a sequence left open at its end is dropped). */
export const stripControls = (text: string): string => controlStripper().push(text)
