// `byok exec`: one prompt in, the answer streamed to stdout, for scripts and CI. Diagnostics go to stderr only.
import { Cause, Effect, Exit, Option, Stdio, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { fstatSync } from "node:fs"
import { ConfigService, priceOverride } from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import { describeCause, describeStoreError, EXIT_CODES_HELP } from "./exit.ts"
import { configFlag, configLayer, modelFlag } from "./flags.ts"
import { finishNote, initJson, type OutputFormat, printJson, resultJson, streamAnswer, streamJsonLines } from "./render.ts"
import { note, startSpinner, term, warn } from "./term.ts"
import { runTurn } from "./turn.ts"

const REQUEST_TIMEOUT = "10 minutes"

/**
 * Whether stdin carries input to read: a pipe or a file, not a terminal. When a prompt argument is given, a socket
 * or character device on stdin (an idle harness, /dev/null) is not read, so that byok never waits on it.
 */
const stdinHasInput = (withArgument: boolean): boolean => {
  try {
    const stat = fstatSync(0)
    if (stat.isFIFO() || stat.isFile()) return true
    return !withArgument && !process.stdin.isTTY && !stat.isCharacterDevice()
  } catch {
    return false
  }
}

const readStdin = Effect.gen(function*() {
  const stdio = yield* Stdio.Stdio
  return yield* stdio.stdin.pipe(Stream.decodeText(), Stream.mkString, Effect.orElseSucceed(() => ""))
})

/** The prompt from the argument and stdin: stdin alone, the argument alone, or stdin as context before it. */
export const combinePrompt = (argument: string | undefined, stdin: string | undefined): string | undefined => {
  const arg = argument?.trim() ? argument : undefined
  const input = stdin?.trim() ? stdin.replace(/\s+$/, "") : undefined
  if (arg !== undefined && input !== undefined) return `${input}\n\n${arg}`
  return arg ?? input
}

const command = Command.make("exec", {
  prompt: Argument.String("prompt").pipe(
    Argument.withDescription("The prompt (several words are joined). Stdin, when piped, is read too: alone, or as context before the prompt"),
    Argument.variadic()
  ),
  model: modelFlag,
  system: Flag.String("system").pipe(Flag.withMetavar("TEXT"), Flag.withDescription("System prompt"), Flag.optional),
  maxTokens: Flag.Int("max-tokens").pipe(
    Flag.withMetavar("N"),
    Flag.withDescription("Most output tokens for this answer (default: the model's max_tokens)"),
    Flag.optional
  ),
  output: Flag.Literals("output-format", ["text", "json", "stream-json"]).pipe(
    Flag.withAlias("o"),
    Flag.withDescription("text: the answer as it streams; json: one result object with usage and cost; stream-json: one JSON line per event, then the result"),
    Flag.withDefault("text" as const)
  ),
  config: configFlag
}, (flags) =>
  Effect.gen(function*() {
    const t = yield* term
    const argument = flags.prompt.length > 0 ? flags.prompt.join(" ") : undefined
    const stdin = stdinHasInput(argument !== undefined) ? yield* readStdin : undefined
    const prompt = combinePrompt(argument, stdin)
    if (prompt === undefined) {
      return yield* new UsageError({
        detail: "No prompt given",
        hint: "Pass it as an argument (byok exec \"question\") or pipe it on stdin (echo question | byok exec)."
      })
    }
    const maxTokens = Option.getOrUndefined(flags.maxTokens)
    if (maxTokens !== undefined && maxTokens <= 0) {
      return yield* new UsageError({ detail: `--max-tokens must be a positive whole number, got ${maxTokens}` })
    }

    const config = yield* ConfigService
    const { entry, warnings } = yield* config.resolve(Option.getOrUndefined(flags.model))
    for (const w of warnings) yield* warn(t, w)
    const loaded = yield* config.load

    const format: OutputFormat = flags.output
    const maxOutputTokens = maxTokens ?? entry.maxOutputTokens
    const conversationId = crypto.randomUUID()
    const stopSpinner = format === "text" ? yield* startSpinner(t, `${entry.displayName}…`) : Effect.void
    yield* runTurn({
      request: {
        model: entry,
        conversation: {
          id: conversationId,
          system: Option.getOrUndefined(flags.system),
          turns: [{ role: "user", content: prompt }]
        },
        maxOutputTokens,
        timeout: REQUEST_TIMEOUT
      },
      priceOverride: priceOverride(loaded, entry),
      render: (events) =>
        format === "text"
          ? streamAnswer(events, stopSpinner)
          : format === "json"
          ? Stream.runDrain(events)
          : streamJsonLines(events, initJson(conversationId, entry)),
      onLedgerError: (error) => warn(t, describeStoreError(error, "this request was not recorded in the cost ledger")),
      after: (turn) =>
        Effect.gen(function*() {
          if (format !== "text") {
            const failure = Exit.isFailure(turn.exit) ? Cause.squash(turn.exit.cause) : undefined
            const report = failure !== undefined && turn.row.outcome !== "interrupted"
              ? describeCause(turn.exit.pipe(Exit.match({ onSuccess: () => Cause.empty, onFailure: (c) => c })))
              : undefined
            yield* printJson(resultJson(
              turn,
              entry,
              report !== undefined ? { type: turn.row.outcome, message: report.headline, code: report.code } : undefined
            )).pipe(Effect.ignore)
          }
          const cut = finishNote(turn.observation.finish, entry, maxOutputTokens)
          if (cut !== undefined) yield* note(t, cut)
        })
    })
  })).pipe(
    Command.withDescription(`Send one prompt and stream the answer to stdout (for scripts and CI)\n${EXIT_CODES_HELP}`),
    Command.withExamples([
      { command: "byok exec \"Explain SSE in one sentence\"", description: "Ask the default model" },
      { command: "byok exec -m \"Llama 3.2 [Ollama]\" hello", description: "Pick a model by display name" },
      { command: "git diff | byok exec \"Write a commit message\"", description: "Stdin is added as context" },
      { command: "byok exec --system \"Answer in French\" --max-tokens 200 bonjour", description: "System prompt and cap" },
      { command: "byok exec -o json \"2+2?\" | jq '{result, total_cost_usd, usage}'", description: "Answer, usage and cost as JSON" }
    ])
  )

export const exec = Command.provide(command, configLayer)
