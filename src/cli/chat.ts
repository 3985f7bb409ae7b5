// `byok` / `byok chat`: the interactive conversation. Reads lines with the chat's editor on a terminal (or plain
// lines from a pipe), streams answers, handles slash commands, and saves the conversation after every answer.
// Ctrl-C stops an answer (the partial text stays, the ledger says "interrupted") and returns to the prompt.
// Model output goes to the terminal and the session store only; the ledger never holds the chat up.
import { Cause, Clock, Effect, Exit, Fiber, Option, Queue, Stdio, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { COMMANDS, completeCommand, helpText, parseInput } from "../chat/commands.ts"
import { LineEditor, renderFrame } from "../chat/editor.ts"
import { appendHistory, loadHistory } from "../chat/history.ts"
import type { Key } from "../chat/keys.ts"
import { SessionStore, type StoredMessage, storedMessage } from "../chat/sessions.ts"
import { openTty, type Tty } from "../chat/tty.ts"
import { ConfigService, findEntry, type LoadedConfig, priceOverride } from "../config/config.ts"
import type { ModelEntry } from "../config/schema.ts"
import * as Ledger from "../ledger/ledger.ts"
import { CostLedger, type Totals } from "../ledger/ledger.ts"
import type { LedgerRow } from "../ledger/schema.ts"
import { dataDirectory, type StoreError } from "../lib/sqlite.ts"
import { minimumCacheablePrompt } from "../providers/caching.ts"
import type { Turn } from "../providers/conversation.ts"
import type { LlmEvent } from "../providers/event.ts"
import { Provider } from "../providers/provider.ts"
import { VERSION } from "../version.ts"
import { costCell, formatTokens, formatUsd, hitRateCell } from "./cost.ts"
import { describeCause, describeRetry, describeStoreError, formatReport } from "./exit.ts"
import { configFlag, configLayer, maxRetriesFromEnv, modelFlag } from "./flags.ts"
import { continueFlag, resumeSession, sessionFlag, startingModel } from "./resume.ts"
import { answerText, finishNote } from "./render.ts"
import { startSpinner, term } from "./term.ts"
import { runTurn, type TurnResult } from "./turn.ts"

const REQUEST_TIMEOUT = "10 minutes"
/** The chat waits at most this long for a locked ledger; a row that could not be written is retried later. */
const CHAT_LEDGER_BUSY_MS = 100

interface Style {
  readonly dim: (s: string) => string
  readonly bold: (s: string) => string
  readonly accent: (s: string) => string
}

const styles = (color: boolean): Style =>
  color
    ? {
      dim: (s) => `\x1b[2m${s}\x1b[22m`,
      bold: (s) => `\x1b[1m${s}\x1b[22m`,
      accent: (s) => `\x1b[36m${s}\x1b[39m`
    }
    : { dim: (s) => s, bold: (s) => s, accent: (s) => s }

interface State {
  entry: ModelEntry
  conversationId: string
  system: string | undefined
  turns: Array<Turn>
  lastInputTokens: number | undefined
}

export interface ChatFlags {
  readonly model: Option.Option<string>
  readonly session: Option.Option<string>
  readonly continue: boolean
  readonly system: Option.Option<string>
  readonly config: Option.Option<string>
}

export const chatFlags = {
  model: modelFlag,
  session: sessionFlag,
  continue: continueFlag,
  system: Flag.String("system").pipe(Flag.withMetavar("TEXT"), Flag.withDescription("System prompt"), Flag.optional),
  config: configFlag
}

/** Two lines for /cost: requests, cost, hit rate and savings; then the tokens by class. */
const totalsLines = (label: string, t: Totals, style: Style) =>
  t.requests === 0 ? `${label}: no requests yet` : [
    `${label}: ${t.requests} request${t.requests === 1 ? "" : "s"} · ${style.bold(costCell(t))}` +
    ` · cache hit rate ${hitRateCell(t)}` +
    (t.requests - t.unpriced - t.local > 0 ? ` · caching saved ${formatUsd(t.savings)}` : ""),
    `  input ${formatTokens(t.inputUncached)} · cache read ${formatTokens(t.cacheRead)}` +
    ` · cache write ${formatTokens(t.cacheWrite)} · output ${formatTokens(t.outputTokens)}` +
    (t.reasoningTokens > 0 ? ` (${formatTokens(t.reasoningTokens)} reasoning)` : "")
  ].join("\n")

const modelList = (loaded: LoadedConfig, current: ModelEntry, style: Style) => {
  const valid = loaded.entries.flatMap((r) => (r.entry !== undefined ? [r.entry] : []))
  const lines: Array<string> = []
  let n = 0
  const numbered: Array<ModelEntry> = []
  for (const provider of ["anthropic", "openai", "generic-chat-completion-api"] as const) {
    const group = valid.filter((e) => e.provider === provider)
    if (group.length === 0) continue
    lines.push(style.dim(provider))
    for (const e of group) {
      n++
      numbered.push(e)
      const mark = e === current ? style.accent("*") : " "
      lines.push(`${mark} ${String(n).padStart(2)}. ${e.displayName}  ${style.dim(`${e.model} · ${URL.parse(e.baseUrl)?.host ?? e.baseUrl}`)}`)
    }
  }
  return { text: lines.join("\n"), numbered }
}

export const runChat = (flags: ChatFlags) =>
  Effect.scoped(Effect.gen(function*() {
    const t = yield* term
    const stdio = yield* Stdio.Stdio
    const interactive = (yield* stdio.stdinIsTerminal) && t.stdoutIsTty
    const color = t.stdoutIsTty && t.color
    const style = styles(color)
    const config = yield* ConfigService
    const sessions = yield* SessionStore
    const ledger = yield* CostLedger
    const provider = yield* Provider

    const maxRetries = yield* maxRetriesFromEnv
    const resumed = yield* resumeSession(flags)
    const { entry, warnings } = yield* startingModel(flags, resumed)
    const loaded = yield* config.load

    const state: State = {
      entry,
      conversationId: resumed?.id ?? crypto.randomUUID(),
      system: Option.getOrUndefined(flags.system) ?? resumed?.system,
      turns: resumed?.messages.map((m) => ({ role: m.role, content: m.content })) ?? [],
      lastInputTokens: undefined
    }

    // ---- output ----------------------------------------------------------------------------------------------
    const tty: Tty | undefined = interactive ? yield* openTty : undefined
    const out = (s: string): Effect.Effect<void> =>
      tty !== undefined
        ? Effect.sync(() => tty.write(s))
        : Stream.run(Stream.succeed(s), stdio.stdout({ endOnDone: false })).pipe(Effect.ignore)
    const say = (s: string) => out(`${s}\n`)
    const warnOnce = new Set<string>()
    const warn = (s: string) =>
      warnOnce.has(s) ? Effect.void : Effect.sync(() => warnOnce.add(s)).pipe(Effect.andThen(say(style.dim(`warning: ${s}`))))

    for (const w of warnings) yield* warn(w)
    yield* say(style.dim(
      `byok ${VERSION} · ${state.entry.displayName} (${state.entry.provider}) · /help for commands · Ctrl-D to leave`
    ))
    if (resumed !== undefined) {
      const shown = resumed.messages.slice(-4)
      yield* say(style.dim(
        `Resumed conversation ${resumed.id.slice(0, 8)} (${resumed.messages.length} messages)` +
          (resumed.messages.length > shown.length ? `; the last ${shown.length}:` : ":")
      ))
      for (const m of shown) {
        yield* say(m.role === "user" ? `${style.accent("›")} ${m.content}` : `${m.content}${m.interrupted ? style.dim(" [interrupted]") : ""}`)
      }
      yield* say("")
    }

    // ---- the ledger, never in the way: a short busy timeout, and rows retried after the next answer ----------
    const pendingRows: Array<LedgerRow> = []
    const chatLedger = Ledger.make(ledger.path, CHAT_LEDGER_BUSY_MS)
    const flushPending = Effect.gen(function*() {
      while (pendingRows.length > 0) {
        const row = pendingRows[0]!
        const ok = yield* chatLedger.record(row).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
        if (!ok) return
        pendingRows.shift()
      }
    })
    const onLedgerError = (error: StoreError, row: LedgerRow) =>
      Effect.gen(function*() {
        if (error.kind === "locked") {
          pendingRows.push(row)
          yield* warn("the cost ledger is busy; this answer is recorded as soon as it is free")
        } else {
          yield* warn(describeStoreError(error, "answers are not being recorded in the cost ledger"))
        }
      })

    // ---- saving the conversation ------------------------------------------------------------------------------
    const save = (messages: ReadonlyArray<StoredMessage>) =>
      sessions.append({ id: state.conversationId, system: state.system }, messages).pipe(
        Effect.catch((e) => warn(describeStoreError(e, "this conversation is not being saved to")))
      )
    const message = (role: Turn["role"], content: string, ts: number, interrupted = false) =>
      storedMessage(state.entry, role, content, ts, interrupted)

    // ---- input ------------------------------------------------------------------------------------------------
    const dir = yield* dataDirectory
    const historyPath = `${dir}/history.jsonl`
    const editor = new LineEditor(yield* loadHistory(historyPath), completeCommand)
    const typedAhead: Array<Key> = []
    const prompt = { text: `${style.accent("›")} `, width: 2 }
    const continuation = { text: "  ", width: 2 }
    let previousCursorRow = 0
    const draw = (cursor = editor.cursor) => {
      const frame = renderFrame({
        buffer: editor.buffer,
        cursor,
        prompt,
        continuation,
        columns: tty!.columns(),
        previousCursorRow
      })
      previousCursorRow = frame.cursorRow
      tty!.write(frame.output)
    }

    /** One line from the terminal: undefined when the user leaves. */
    const readTerminalLine = Effect.gen(function*() {
      editor.reset()
      previousCursorRow = 0
      for (const key of typedAhead.splice(0)) editor.apply(key)
      draw()
      for (;;) {
        const action = editor.apply(yield* Queue.take(tty!.keys))
        switch (action.kind) {
          case "continue":
          case "cancel":
            draw()
            break
          case "clear-screen":
            tty!.write("\x1b[2J\x1b[H")
            previousCursorRow = 0
            draw()
            break
          case "submit":
            draw(editor.buffer.length)
            tty!.write("\r\n")
            if (action.text.trim() !== "") yield* appendHistory(historyPath, action.text)
            return action.text
          case "exit":
            draw(editor.buffer.length)
            tty!.write("\r\n")
            return undefined
        }
      }
    })

    // ---- one answer -------------------------------------------------------------------------------------------
    const renderAnswer = (events: Stream.Stream<LlmEvent, unknown>) =>
      Effect.flatMap(startSpinner(interactive, style.dim("thinking…"), out), (stopSpinner) =>
        Stream.runForEach(answerText(events, stopSpinner), out).pipe(Effect.ensuring(stopSpinner)))

    const send = (text: string) =>
      Effect.gen(function*() {
        const sentAt = yield* Clock.currentTimeMillis
        const turns = [...state.turns, { role: "user" as const, content: text }]
        let result: TurnResult | undefined
        const turn = runTurn({
          request: {
            model: state.entry,
            conversation: { id: state.conversationId, system: state.system, turns },
            maxOutputTokens: state.entry.maxOutputTokens,
            timeout: REQUEST_TIMEOUT,
            maxRetries,
            onRetry: (info) => out(`\r\x1b[K${style.dim(describeRetry(info))}\n`)
          },
          priceOverride: priceOverride(loaded, state.entry),
          render: renderAnswer,
          onLedgerError,
          after: (r) => Effect.sync(() => void (result = r))
        }).pipe(Effect.provideService(CostLedger, chatLedger), Effect.provideService(Provider, provider))

        const fiber = yield* Effect.forkChild(turn)
        // While the answer streams, Ctrl-C stops it; anything else typed is kept for the next prompt.
        const watcher = tty === undefined ? undefined : yield* Effect.forkChild(Effect.forever(
          Effect.flatMap(Queue.take(tty.keys), (key) =>
            key.name === "ctrl-c" ? Fiber.interrupt(fiber) : Effect.sync(() => void typedAhead.push(key)))
        ))
        const exit = yield* Fiber.await(fiber)
        if (watcher !== undefined) yield* Fiber.interrupt(watcher)

        const r = result as TurnResult | undefined
        const partial = r?.observation.text ?? ""
        if (Exit.isSuccess(exit)) {
          state.turns = [...turns, { role: "assistant", content: partial }]
          state.lastInputTokens = r?.row.inputUncached !== undefined
            ? r.row.inputUncached + r.row.cacheRead + r.row.cacheWrite5m + r.row.cacheWrite1h
            : undefined
          yield* save([message("user", text, sentAt), message("assistant", partial, yield* Clock.currentTimeMillis)])
          const note = finishNote(r?.observation.finish, state.entry, state.entry.maxOutputTokens)
          if (note !== undefined) yield* say(style.dim(note))
        } else if (Cause.hasInterruptsOnly(exit.cause)) {
          if (partial !== "") {
            if (!partial.endsWith("\n")) yield* out("\n")
            state.turns = [...turns, { role: "assistant", content: partial }]
            yield* save([message("user", text, sentAt), message("assistant", partial, yield* Clock.currentTimeMillis, true)])
            yield* say(style.dim("[stopped: the partial answer is kept]"))
          } else {
            yield* say(style.dim("[stopped before any answer; press ↑ to edit and resend]"))
          }
        } else {
          const report = describeCause(exit.cause, t.debug)
          yield* out(formatReport(report, color))
          yield* say(style.dim("Your message was not sent into the conversation; press ↑ to edit and resend."))
        }
        yield* flushPending
        yield* say("")
      })

    // ---- commands ---------------------------------------------------------------------------------------------
    const command = (name: string, arg: string): Effect.Effect<"continue" | "exit"> =>
      Effect.gen(function*() {
        switch (name) {
          case "help":
            yield* say(helpText())
            break
          case "exit":
            return "exit"
          case "clear":
            state.conversationId = crypto.randomUUID()
            state.turns = []
            state.lastInputTokens = undefined
            yield* say(style.dim("Started a new conversation."))
            break
          case "model": {
            const list = modelList(loaded, state.entry, style)
            if (arg === "") {
              yield* say(list.text)
              yield* say(style.dim("Switch with /model N or /model NAME; the conversation continues on the new model."))
              break
            }
            const byNumber = /^\d+$/.test(arg) ? list.numbered[Number(arg) - 1] : undefined
            const chosen = byNumber ?? findEntry(loaded.entries, arg)
            if (chosen === undefined || (!("displayName" in chosen) && chosen.entry === undefined)) {
              yield* say(`No model "${arg}". ${list.numbered.length > 0 ? "/model lists them." : ""}`)
              break
            }
            const next = "displayName" in chosen ? chosen : chosen.entry!
            state.entry = next
            yield* say(`Switched to ${style.bold(next.displayName)} (${next.provider}); the conversation continues.`)
            break
          }
          case "cost": {
            yield* flushPending
            const conversation = yield* chatLedger.report({ conversation: state.conversationId }).pipe(Effect.option)
            const lifetime = yield* chatLedger.report({}).pipe(Effect.option)
            if (Option.isNone(conversation) || Option.isNone(lifetime)) {
              yield* say("The cost ledger cannot be read now.")
              break
            }
            yield* say(totalsLines("This conversation", conversation.value.total, style))
            yield* say(totalsLines("All time", lifetime.value.total, style))
            const minimum = minimumCacheablePrompt(state.entry)
            const c = conversation.value.total
            if (
              minimum !== undefined && c.requests >= 2 && c.cacheRead === 0 && state.lastInputTokens !== undefined &&
              state.lastInputTokens >= minimum
            ) {
              yield* say(
                `Caching did not engage: the last prompt was ${formatTokens(state.lastInputTokens)} tokens, above the ` +
                  `${formatTokens(minimum)}-token minimum of ${state.entry.model}, yet nothing was read from the cache.` +
                  ` A proxy in between may drop the cache markers, or the prompt changed at its start.`
              )
            }
            break
          }
          case "sessions": {
            const list = yield* sessions.list(10).pipe(Effect.option)
            if (Option.isNone(list) || list.value.length === 0) {
              yield* say("No saved conversations yet.")
              break
            }
            for (const s of list.value) {
              const mark = s.id === state.conversationId ? style.accent("*") : " "
              yield* say(`${mark} ${s.id.slice(0, 8)}  ${new Date(s.updated).toLocaleString()}  ${style.dim(`${s.messages} msgs · ${s.modelName}`)}  ${s.title}`)
            }
            yield* say(style.dim("Resume one with: byok -s ID"))
            break
          }
        }
        return "continue" as const
      })

    /** Handles one input line; "exit" ends the chat. */
    const handle = (line: string): Effect.Effect<"continue" | "exit"> => {
      const parsed = parseInput(line)
      switch (parsed.kind) {
        case "empty":
          return Effect.succeed("continue")
        case "message":
          return Effect.as(send(parsed.text), "continue" as const)
        case "command":
          return command(parsed.name, parsed.arg)
        case "unknown":
          return Effect.as(
            say(`Unknown command /${parsed.name}.${parsed.suggestion ? ` Did you mean /${parsed.suggestion}?` : ""} ` +
              `Commands: ${COMMANDS.map((c) => `/${c.name}`).join(" ")}`),
            "continue" as const
          )
      }
    }

    if (tty !== undefined) {
      for (;;) {
        const line = yield* readTerminalLine
        if (line === undefined || (yield* handle(line)) === "exit") break
      }
    } else {
      // Not a terminal: each line of stdin is one input, as if typed; /exit ends it there.
      yield* stdio.stdin.pipe(
        Stream.decodeText(),
        Stream.splitLines,
        Stream.runForEachWhile((line) => Effect.map(handle(line), (r) => r !== "exit")),
        Effect.ignore
      )
    }
    // Leaving: rows the busy ledger refused get the ordinary wait now; any still refused are said, not dropped
    // in silence.
    const unrecorded: Array<StoreError> = []
    for (const row of pendingRows.splice(0)) {
      yield* ledger.record(row).pipe(Effect.catch((e) => Effect.sync(() => void unrecorded.push(e))))
    }
    if (unrecorded.length > 0) {
      yield* warn(describeStoreError(unrecorded[0]!, `${unrecorded.length} answer(s) could not be recorded in the cost ledger`))
    }
  }))

const command = Command.make("chat", chatFlags, runChat).pipe(
  Command.withDescription("Talk with a model: streamed answers, /model to switch, /cost for usage, saved conversations"),
  Command.withExamples([
    { command: "byok", description: "Start a conversation with the default model" },
    { command: "byok -m \"Claude Sonnet\"", description: "… with a given model" },
    { command: "byok -c", description: "Resume the last conversation" },
    { command: "byok -s 3f2a9c", description: "Resume a saved conversation by id" }
  ])
)

export const chat = Command.provide(command, configLayer)
