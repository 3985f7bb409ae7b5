// Terminal facts and stderr output for the CLI: whether to use colour (NO_COLOR, TTY), diagnostics, a spinner.
// Model output never goes through here: it is written by render.ts.
import { monotonicMillis } from "../lib/clock.ts"
import { Duration, Effect, Fiber, Stdio, Stream } from "effect"
import type { ModelEntry } from "../config/schema.ts"
import { stripControls } from "../lib/controls.ts"
import { envFlag } from "../lib/env.ts"

export interface Term {
  readonly stdoutIsTty: boolean
  readonly stderrIsTty: boolean
  /** Colour on stderr: a TTY and NO_COLOR unset or empty (https://no-color.org). */
  readonly color: boolean
  readonly debug: boolean
}

export const term: Effect.Effect<Term, never, Stdio.Stdio> = Effect.gen(function*() {
  const stdio = yield* Stdio.Stdio
  const stdoutIsTty = yield* stdio.stdoutIsTerminal
  const stderrIsTty = yield* stdio.stderrIsTerminal
  const noColor = yield* envFlag("NO_COLOR")
  const debug = yield* envFlag("BYOK_DEBUG")
  return { stdoutIsTty, stderrIsTty, color: stderrIsTty && !noColor, debug }
})

/** Writes text to stderr. Errors writing diagnostics are ignored: there is nowhere left to report them. */
export const writeErr = (text: string) =>
  Effect.flatMap(Stdio.Stdio, (stdio) =>
    Stream.run(Stream.succeed(text), stdio.stderr({ endOnDone: false })).pipe(Effect.ignore))

/** A warning on stderr; its words may quote a server or a file, so no control sequence in them gets through. */
export const warn = (t: Term, message: string) =>
  writeErr(`${t.color ? "\x1b[33mwarning:\x1b[0m" : "warning:"} ${stripControls(message)}\n`)

export const note = (t: Term, message: string) => {
  const safe = stripControls(message)
  return writeErr(`${t.color ? `\x1b[2m${safe}\x1b[0m` : safe}\n`)
}

/** What the spinner says byok waits for once it has waited a while. */
export const waitingFor = (entry: ModelEntry) =>
  `${entry.endpoint.host} to answer` + (entry.endpoint.isLocal ? " (a local server may be loading the model)" : "")

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/** After this long, the spinner also says what it is waiting for. */
const SAY_WHAT_AFTER_MS = 10_000

/**
 * Shows a spinner with the seconds waited (only when `enabled`: a terminal) until the returned effect is run,
 * which clears the line; after about 10 s it also says what it waits for (`waitingFor`). Runs in a child fiber so
 * it never delays the request. Writes to stderr unless given another writer.
 */
export const startSpinner = <R = never>(
  enabled: boolean,
  label: string,
  write: (text: string) => Effect.Effect<void, never, R> = writeErr as never,
  waitingFor?: string
) =>
  Effect.gen(function*() {
    if (!enabled) return Effect.void
    let drawn = false
    const fiber = yield* Effect.forkChild(
      Effect.gen(function*() {
        const started = yield* monotonicMillis
        yield* Effect.sleep(Duration.millis(120))
        for (let i = 0;; i++) {
          drawn = true
          const waited = (yield* monotonicMillis) - started
          const what = waitingFor !== undefined && waited >= SAY_WHAT_AFTER_MS ? ` · waiting for ${waitingFor}` : ""
          yield* write(`\r\x1b[K${FRAMES[i % FRAMES.length]} ${label} ${Math.floor(waited / 1000)}s${what}`)
          yield* Effect.sleep(Duration.millis(80))
        }
      })
    )
    let stopped = false
    return Effect.suspend(() => {
      if (stopped) return Effect.void
      stopped = true
      return Fiber.interrupt(fiber).pipe(Effect.andThen(drawn ? write("\r\x1b[K") : Effect.void))
    })
  })
