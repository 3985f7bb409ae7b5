// SSE framing for the three wire formats: response text → SSE messages. What the messages mean is each format's
// parser's business (parser.ts runs them).
//
// The parser is byok's own, not effect/encoding's: that one looks at a character at a time, which cost 5–8 ms of a
// 2,000-event answer in the compiled binary, against about 1 ms for this one, which finds line ends with indexOf
// (bench/sse.ts). Both follow the WHATWG "event stream interpretation", and test/sse.test.ts holds this one to
// effect/encoding's for any text cut anywhere.
/** One SSE message as a format's JSON-to-events conversion makes them (`fromJson`). */
export interface SseMessage {
  readonly _tag: "Event"
  /** The `event:` name, "message" when the server sent none. */
  readonly event: string
  readonly data: string
}

/** The largest event byok holds while it waits for the event's end; a body that goes past it fails. */
export const MAX_EVENT_SIZE = 10 * 1024 * 1024

export class SseTooLarge extends Error {
  constructor(readonly maxEventSize: number) {
    super(`an event of the stream grew past ${Math.round(maxEventSize / 1048576)} MiB without ending`)
  }
}

export interface SseParser {
  /** Takes the next piece of text; complete events go to `onEvent`. Fails when one event grows too large. */
  readonly feed: (text: string) => SseTooLarge | undefined
  /**
   * The body ended: a last event the server did not close with a blank line is dispatched all the same. The
   * WHATWG text drops it, but servers that end with `data: [DONE]` and no newline mean it (a real vendor's streams
   * do), and the alternative is calling a finished answer cut.
   */
  readonly end: () => void
}

const LF = 10
const CR = 13
const SPACE = 32

/**
 * An incremental parser: text in, in pieces cut anywhere; each complete event out. Lines end in LF, CRLF or CR (a
 * CRLF may be split between two pieces). A line starting with ":" is a comment. Of the fields, `data` (several
 * are joined with newlines) and `event` matter; `id` and `retry` mean nothing to a one-shot POST and are ignored.
 * An event is dispatched at a blank line, and only when it had data.
 */
export const makeSseParser = (
  onEvent: (event: string, data: string) => void,
  maxEventSize = MAX_EVENT_SIZE
): SseParser => {
  let started = false
  /** The start of a line the last piece did not finish. */
  let carry = ""
  /** The last piece ended in CR: an LF at the start of the next one ends the same line. */
  let skipLf = false
  let event = ""
  let data = ""
  let hasData = false

  const line = (text: string) => {
    if (text.length === 0) {
      if (hasData) onEvent(event === "" ? "message" : event, data)
      event = ""
      data = ""
      hasData = false
      return
    }
    const colon = text.indexOf(":")
    if (colon === 0) return
    const field = colon < 0 ? text : text.slice(0, colon)
    if (field !== "data" && field !== "event") return
    const value = colon < 0 ? "" : text.slice(text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1)
    if (field === "event") {
      event = value
    } else {
      data = hasData ? `${data}\n${value}` : value
      hasData = true
    }
  }

  const feed = (piece: string): SseTooLarge | undefined => {
    let text = piece
    if (!started) {
      if (text.length === 0) return undefined
      started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    const length = text.length
    let at = 0
    if (skipLf && length > 0) {
      skipLf = false
      if (text.charCodeAt(0) === LF) at = 1
    }
    // The next LF and CR at or after `at`, each searched again only once passed: linear in the piece.
    let lf = text.indexOf("\n", at)
    let cr = text.indexOf("\r", at)
    while (at < length) {
      if (lf !== -1 && lf < at) lf = text.indexOf("\n", at)
      if (cr !== -1 && cr < at) cr = text.indexOf("\r", at)
      const end = cr !== -1 && (lf === -1 || cr < lf) ? cr : lf
      if (end === -1) {
        carry += text.slice(at)
        break
      }
      const part = text.slice(at, end)
      line(carry.length > 0 ? carry + part : part)
      carry = ""
      if (text.charCodeAt(end) !== CR) at = end + 1
      else if (end + 1 < length) at = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1
      else {
        skipLf = true
        at = length
      }
    }
    if (carry.length + data.length > maxEventSize) {
      carry = ""
      data = ""
      hasData = false
      return new SseTooLarge(maxEventSize)
    }
    return undefined
  }

  const end = () => {
    if (carry.length > 0) line(carry)
    carry = ""
    line("")
  }

  return { feed, end }
}

/** One SSE message, as a format's JSON-to-events conversion makes them. */
export const message = (data: unknown, event = "message"): SseMessage => ({
  _tag: "Event",
  event,
  data: typeof data === "string" ? data : JSON.stringify(data)
})
