// LlmEvent → terminal text. The only module that writes model output to stdout: the answer's text deltas, as they
// arrive, and nothing else (reasoning and diagnostics go to stderr or nowhere).
import { Effect, Stdio, Stream } from "effect"
import type { ModelEntry } from "../config/schema.ts"
import type { LlmEvent } from "../providers/event.ts"

export type FinishEvent = Extract<LlmEvent, { _tag: "Finish" }>

export interface Outcome {
  readonly text: string
  readonly finish: FinishEvent | undefined
  readonly requestId: string | undefined
}

/**
 * Streams the answer's text to stdout and returns what was streamed. `onFirst` runs once, before the first output
 * (it stops the spinner). A final newline is added when the answer does not end with one.
 */
export const streamAnswer = <E, R, R2>(
  events: Stream.Stream<LlmEvent, E, R>,
  onFirst: Effect.Effect<void, never, R2>
) =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const parts: Array<string> = []
    let finish: FinishEvent | undefined
    let requestId: string | undefined
    // A chunk of events at a time, joined into one write: per-event effects dominate on a fast stream.
    const text = events.pipe(
      Stream.mapArray((batch) => {
        let out = ""
        for (const event of batch) {
          if (event._tag === "TextDelta") out += event.text
          else if (event._tag === "Finish") finish = event
          else if (event._tag === "Start") requestId = event.requestId
        }
        if (out !== "") parts.push(out)
        return [out]
      }),
      Stream.filter((s) => s !== ""),
      Stream.onFirst(() => onFirst),
      Stream.concat(Stream.suspend(() => {
        const last = parts.at(-1)
        return last !== undefined && !last.endsWith("\n") ? Stream.succeed("\n") : Stream.empty
      }))
    )
    yield* Stream.run(text, stdio.stdout({ endOnDone: false })).pipe(Effect.ensuring(onFirst))
    return { text: parts.join(""), finish, requestId } satisfies Outcome
  })

/** A line for stderr when the answer did not end normally; undefined when it did. */
export const finishNote = (finish: FinishEvent | undefined, entry: ModelEntry, maxTokens: number) => {
  if (finish === undefined) return undefined
  switch (finish.reason) {
    case "length":
      return `The answer was cut short at the output limit (${maxTokens} tokens). ` +
        `Raise it with --max-tokens, or max_tokens of "${entry.displayName}" in ${entry.source.file}.`
    case "content-filter":
      return `The provider stopped the answer (content filter or refusal${finish.rawReason ? `: ${finish.rawReason}` : ""}).`
    case "error":
      return "The provider ended the answer with an error; it may be incomplete."
    case "tool-calls":
      return "The model asked to call a tool; byok exec does not run tools, so the answer may be incomplete."
    case "other":
      return `The answer ended for a reason byok does not know: "${finish.rawReason}".`
    case "stop":
      return undefined
  }
}
