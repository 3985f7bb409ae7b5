// `byok exec`: a prompt in, the answer streamed to stdout, for scripts and CI. Diagnostics go to stderr only.
// Every run is saved as a conversation, so a script can go on with -s ID or --continue; with
// `--input-format stream-json` each stdin line is one user message of the same conversation, one result line out.
import { Cause, Clock, Effect, Exit, Option, Stdio, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { fstatSync } from "node:fs"
import { SessionStore, storedMessage } from "../chat/sessions.ts"
import { ConfigService, type LoadedConfig, priceOverride } from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import type { ModelEntry } from "../config/schema.ts"
import type { Turn } from "../providers/conversation.ts"
import { describeCause, describeRetry, describeStoreError, EXIT_CODES_HELP, formatReport, QuietExit } from "./exit.ts"
import { configFlag, configLayer, maxRetriesFromEnv, modelFlag } from "./flags.ts"
import {
  finishNote,
  initJson,
  type OutputFormat,
  printJson,
  resultJson,
  streamAnswer,
  streamJsonLines
} from "./render.ts"
import { continueFlag, resumeSession, sessionFlag, startingModel } from "./resume.ts"
import { note, startSpinner, type Term, term, warn, writeErr } from "./term.ts"
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

/**
 * The text of one `--input-format stream-json` line: Claude Code's and droid's
 * `{"type":"user","message":{"role":"user","content":"…" | [{"type":"text","text":"…"}]}}`, or the shorter
 * `{"role":"user","content":"…"}` / `{"text":"…"}`. Undefined when the line says nothing byok can send.
 */
export const userMessageText = (line: string): string | undefined => {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const v = value as { message?: { content?: unknown }; content?: unknown; text?: unknown }
  const content = v.message?.content ?? v.content ?? v.text
  if (typeof content === "string") return content.trim() !== "" ? content : undefined
  if (Array.isArray(content)) {
    const text = content
      .map((part) => (typeof part === "string" ? part : (part as { text?: unknown })?.text))
      .filter((t): t is string => typeof t === "string")
      .join("")
    return text.trim() !== "" ? text : undefined
  }
  return undefined
}

/** One conversation as exec holds it: the session it is saved as, and its turns so far. */
interface Conversation {
  readonly id: string
  readonly system: string | undefined
  turns: Array<Turn>
}

interface Context {
  readonly t: Term
  readonly maxRetries: number
  readonly entry: ModelEntry
  readonly loaded: LoadedConfig
  readonly format: OutputFormat
  readonly maxOutputTokens: number
  readonly conversation: Conversation
}

/** Runs one prompt of the conversation: streams it, records it, saves it. Fails as the request failed. */
const execTurn = (ctx: Context, prompt: string) =>
  Effect.gen(function*() {
    const { t, entry, format, conversation } = ctx
    const sessions = yield* SessionStore
    const stdio = yield* Stdio.Stdio
    const clock = yield* Clock.Clock
    const sentAt = clock.currentTimeMillisUnsafe()
    const turns = [...conversation.turns, { role: "user" as const, content: prompt }]
    const stopSpinner = yield* startSpinner(format === "text" && t.stderrIsTty, `${entry.displayName}…`)
    yield* runTurn({
      request: {
        model: entry,
        conversation: { id: conversation.id, system: conversation.system, turns },
        maxOutputTokens: ctx.maxOutputTokens,
        timeout: REQUEST_TIMEOUT,
        maxRetries: ctx.maxRetries,
        onRetry: (info) => warn(t, describeRetry(info)).pipe(Effect.provideService(Stdio.Stdio, stdio))
      },
      priceOverride: priceOverride(ctx.loaded, entry),
      render: (events) =>
        format === "text"
          ? streamAnswer(events, stopSpinner)
          : format === "json"
          ? Stream.runDrain(events)
          : streamJsonLines(events, initJson(conversation.id, entry)),
      onLedgerError: (error) => warn(t, describeStoreError(error, "this request was not recorded in the cost ledger")),
      after: (turn) =>
        Effect.gen(function*() {
          const text = turn.observation.text
          if (Exit.isSuccess(turn.exit) || (turn.row.outcome === "interrupted" && text !== "")) {
            conversation.turns = [...turns, { role: "assistant", content: text }]
            yield* sessions.append(
              { id: conversation.id, system: conversation.system },
              [
                storedMessage(entry, "user", prompt, sentAt),
                storedMessage(entry, "assistant", text, clock.currentTimeMillisUnsafe(), Exit.isFailure(turn.exit))
              ]
            ).pipe(Effect.catch((e) => warn(t, describeStoreError(e, "this conversation was not saved to"))))
          }
          if (format !== "text") {
            const report = Exit.isFailure(turn.exit) && turn.row.outcome !== "interrupted"
              ? describeCause(turn.exit.cause)
              : undefined
            yield* printJson(resultJson(
              turn,
              entry,
              report !== undefined ? { type: turn.row.outcome, message: report.headline, code: report.code } : undefined
            )).pipe(Effect.ignore)
          }
          const cut = finishNote(turn.observation.finish, entry, ctx.maxOutputTokens)
          if (cut !== undefined) yield* note(t, cut)
        })
    })
  })

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
  input: Flag.Literals("input-format", ["text", "stream-json"]).pipe(
    Flag.withDescription("stream-json: each stdin line is a user message ({\"type\":\"user\",\"message\":{\"content\":\"…\"}}) of one conversation; one result line per message"),
    Flag.withDefault("text" as const)
  ),
  maxRetries: Flag.Int("max-retries").pipe(
    Flag.withMetavar("N"),
    Flag.withDescription("Tries again after a rate limit, an overload or a dropped connection, before any output (default 2; env BYOK_MAX_RETRIES)"),
    Flag.optional
  ),
  session: sessionFlag,
  continue: continueFlag,
  config: configFlag
}, (flags) =>
  Effect.gen(function*() {
    const t = yield* term
    const maxTokens = Option.getOrUndefined(flags.maxTokens)
    if (maxTokens !== undefined && maxTokens <= 0) {
      return yield* new UsageError({ detail: `--max-tokens must be a positive whole number, got ${maxTokens}` })
    }
    const lines = flags.input === "stream-json"
    const argument = flags.prompt.length > 0 ? flags.prompt.join(" ") : undefined
    if (lines && argument !== undefined) {
      return yield* new UsageError({
        detail: "--input-format stream-json reads the messages from stdin only",
        hint: "Drop the prompt argument, and pipe one JSON message per line."
      })
    }
    const prompt = lines ? undefined : combinePrompt(argument, stdinHasInput(argument !== undefined) ? yield* readStdin : undefined)
    if (!lines && prompt === undefined) {
      return yield* new UsageError({
        detail: "No prompt given",
        hint: "Pass it as an argument (byok exec \"question\") or pipe it on stdin (echo question | byok exec)."
      })
    }

    const resumed = yield* resumeSession(flags)
    const { entry, warnings } = yield* startingModel(flags, resumed)
    for (const w of warnings) yield* warn(t, w)
    const ctx: Context = {
      t,
      maxRetries: Option.getOrUndefined(flags.maxRetries) ?? (yield* maxRetriesFromEnv),
      entry,
      loaded: yield* (yield* ConfigService).load,
      // Results, one per message, are what a stream of messages gets back.
      format: lines && flags.output === "text" ? "json" : flags.output,
      maxOutputTokens: maxTokens ?? entry.maxOutputTokens,
      conversation: {
        id: resumed?.id ?? crypto.randomUUID(),
        system: Option.getOrUndefined(flags.system) ?? resumed?.system,
        turns: resumed?.messages.map((m) => ({ role: m.role, content: m.content })) ?? []
      }
    }
    if (prompt !== undefined) return yield* execTurn(ctx, prompt)

    // stream-json input: every line a message; a failed one is reported (result line and stderr) and the next
    // one still goes; the exit code is that of the last failure.
    const stdio = yield* Stdio.Stdio
    let failure = 0
    let lineNo = 0
    yield* stdio.stdin.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) =>
        Effect.gen(function*() {
          lineNo++
          if (line.trim() === "") return
          const text = userMessageText(line)
          if (text === undefined) {
            failure = 2
            yield* printJson({
              type: "result",
              subtype: "error",
              is_error: true,
              session_id: ctx.conversation.id,
              exit_code: 2,
              error: { type: "InvalidInput", message: `stdin line ${lineNo} is not a user message: ${line.slice(0, 80)}` }
            })
            return
          }
          const exit = yield* Effect.exit(execTurn(ctx, text))
          if (Exit.isFailure(exit)) {
            if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
            const report = describeCause(exit.cause, t.debug)
            failure = report.code
            yield* writeErr(formatReport(report, t.color))
          }
        })
      ),
      Effect.catchTag("PlatformError", () => Effect.void)
    )
    if (failure !== 0) return yield* new QuietExit({ code: failure })
  })).pipe(
    Command.withDescription(`Send one prompt and stream the answer to stdout (for scripts and CI)\n${EXIT_CODES_HELP}`),
    Command.withShortDescription("Send one prompt and stream the answer to stdout (for scripts and CI)"),
    Command.withExamples([
      { command: "byok exec \"Explain SSE in one sentence\"", description: "Ask the default model" },
      { command: "byok exec -m \"Llama 3.2 [Ollama]\" hello", description: "Pick a model by display name" },
      { command: "git diff | byok exec \"Write a commit message\"", description: "Stdin is added as context" },
      { command: "byok exec --system \"Answer in French\" --max-tokens 200 bonjour", description: "System prompt and cap" },
      { command: "byok exec -o json \"2+2?\" | jq '{result, total_cost_usd, usage}'", description: "Answer, usage and cost as JSON" },
      { command: "byok exec --continue \"and in Rust?\"", description: "Go on with the last conversation" },
      {
        command: "printf '%s\\n' '{\"type\":\"user\",\"message\":{\"content\":\"hi\"}}' | byok exec --input-format stream-json",
        description: "One JSON message per line in, one result per line out"
      }
    ])
  )

export const exec = Command.provide(command, configLayer)
