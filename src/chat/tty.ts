// The terminal as the chat uses it: raw input decoded into a queue of keys, bracketed paste on, and output that
// keeps working in raw mode. Everything is restored when the scope closes, however the chat ends (Ctrl-D, an
// error, a signal).
import { Effect, Queue } from "effect"
import { type Key, makeKeyDecoder } from "./keys.ts"

export interface Tty {
  readonly keys: Queue.Queue<Key>
  readonly write: (text: string) => void
  readonly columns: () => number
}

/** Raw-mode terminal output does not turn "\n" into "\r\n" on every system: do it here. */
const crlf = (text: string) => text.replace(/\r?\n/g, "\r\n")

export const openTty = Effect.gen(function*() {
  const keys = yield* Queue.unbounded<Key>()
  const decoder = makeKeyDecoder()
  const text = new TextDecoder()
  const onData = (chunk: Buffer | string) => {
    const s = typeof chunk === "string" ? chunk : text.decode(chunk, { stream: true })
    for (const key of decoder.feed(s)) Queue.offerUnsafe(keys, key)
  }
  // Input closed (the terminal went away): behave as Ctrl-D on an empty line.
  const onEnd = () => Queue.offerUnsafe(keys, { name: "ctrl-d" })
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      process.stdin.setRawMode?.(true)
      process.stdin.on("data", onData)
      process.stdin.on("end", onEnd)
      process.stdin.resume()
      process.stdout.write("\x1b[?2004h")
    }),
    () =>
      Effect.sync(() => {
        process.stdout.write("\x1b[?2004l")
        process.stdin.off("data", onData)
        process.stdin.off("end", onEnd)
        process.stdin.setRawMode?.(false)
        process.stdin.pause()
      })
  )
  const tty: Tty = {
    keys,
    write: (s) => void process.stdout.write(crlf(s)),
    columns: () => process.stdout.columns || 80
  }
  return tty
})
