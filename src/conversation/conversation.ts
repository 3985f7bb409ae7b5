// The one turn engine, for the chat, exec and what comes after them. A conversation is opened new or from a saved
// session; `send(text)` builds the request, runs the provider's stream through the caller's renderer, records the
// ledger row, saves the turns, and returns what happened as a value: the text, usage, stop reason, outcome,
// timings, and the failure if there was one. Callers only read input and render.
import { Cause, Clock, Duration, Effect, Exit, Fiber, Stream } from "effect"
import { SessionStore, type StoredSession, storedMessage } from "../chat/sessions.ts"
import { ConfigService, type Selected } from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import type { ModelEntry, ReasoningEffort } from "../config/schema.ts"
import type { PriceSource } from "../ledger/cost.ts"
import { CostLedger, type Recorded, type Totals } from "../ledger/ledger.ts"
import { buildRow } from "../ledger/record.ts"
import { Telemetry } from "../telemetry/telemetry.ts"
import type { LedgerRow } from "../ledger/schema.ts"
import { endingOf } from "../lib/cause.ts"
import { Redactor, type StreamRedactor } from "../lib/redact.ts"
import type { StoreError } from "../lib/sqlite.ts"
import { imagesRefused, imageTokens } from "../providers/images.ts"
import { noRoomToThink } from "../providers/anthropic/request.ts"
import { recoverToolCalls } from "../providers/recover.ts"
import type { ProviderName } from "../providers/names.ts"
import {
  type AssistantPart,
  type ImagePart,
  type ReasoningPart,
  type RetryInfo,
  type Timeouts,
  type ToolCallPart,
  type ToolChoice,
  type ToolDefinition,
  type ToolResultPart,
  type Turn,
  type UserPart,
  mergeUserTurns,
  userText
} from "../providers/conversation.ts"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
import { ProviderError } from "../providers/errors.ts"
import { type LlmEvent, makeUsage, type Usage } from "../providers/event.ts"
import { LocalServers, type Served } from "../providers/local.ts"
import { Provider } from "../providers/provider.ts"
import { droppedByOllama, wontFit } from "../explain/local.ts"
import { counterFor, estimatePrompt, estimateTokens } from "../lib/tokens.ts"
import {
  type Compacted,
  cutFor,
  NOTHING_COMPACTED,
  piecesOf,
  pruneTo,
  SUMMARY_SYSTEM,
  summaryRequest,
  transcript,
  turnTokens,
  viewOf,
  type Window,
  windowOf
} from "./compaction.ts"

/** The most a summary may take: room enough for what matters, small enough to leave the window for the work. */
const SUMMARY_OUTPUT = 2_048
/**
 * Room kept free beyond the answer's, for byok's estimate to be off (it counts about four characters a token): a
 * tenth of the window, at most 1,024 tokens. An estimate still too low is caught by the server's overflow error.
 */
const marginOf = (window: number) => Math.min(1_024, Math.floor(window / 10))

/** The smallest window local servers are commonly started with (llama.cpp -c 2048, old Ollama defaults). */
const SMALL_WINDOW = 2_048

/** 1234 as 1.2k, 980 as 980. */
const formatK = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n))

/**
 * How long byok waits, in seconds, unless told otherwise (--timeout, BYOK_TIMEOUT, a model's `timeout`): for the
 * answer to start, and between its pieces. A local server may first have to load the model, or work through a
 * long prompt on a CPU; remote APIs answer at once, but reasoning models may think a while between pieces.
 */
export const DEFAULT_TIMEOUTS = {
  local: { firstByte: 600, idle: 120 },
  remote: { firstByte: 120, idle: 120 }
} as const

/** The limits for a model: one number given by the user sets both; else the model's own; else the defaults. */
export const timeoutsFor = (entry: ModelEntry, override: number | undefined): Timeouts => {
  const both = override ?? entry.timeout
  const seconds = both !== undefined
    ? { firstByte: both, idle: both }
    : entry.endpoint.isLocal
    ? DEFAULT_TIMEOUTS.local
    : DEFAULT_TIMEOUTS.remote
  return { firstByte: Duration.seconds(seconds.firstByte), idle: Duration.seconds(seconds.idle) }
}

export type FinishEvent = Extract<LlmEvent, { _tag: "Finish" }>

export interface TurnResult {
  /** The model that answered (or failed to). */
  readonly entry: ModelEntry
  readonly price: PriceSource
  /** The answer's text as far as it came. */
  readonly text: string
  /** The tool calls the model asked for (byok exec runs none; the agent loop will). */
  readonly toolCalls: ReadonlyArray<ToolCallPart>
  /** The last usage the server reported, if any. */
  readonly usage: Usage | undefined
  readonly finish: FinishEvent | undefined
  readonly requestId: string | undefined
  /** "ok", "interrupted" (stopped, or the reader of stdout went away), or the failure's tag. */
  readonly outcome: string
  readonly startedAt: number
  readonly durationMs: number
  readonly ttftMs: number | undefined
  /** The failure that ended the turn; undefined when it ended normally. Interruptions are failures here too. */
  readonly failure: Cause.Cause<unknown> | undefined
  /** The ledger row, as written or as it would have been. */
  readonly row: LedgerRow
  /** The row was written, kept for later (the ledger was busy), or could not be written. */
  readonly recorded: Recorded | StoreError
  /** The turns could not be saved to the session store. */
  readonly saveError: StoreError | undefined
}

export interface SendOptions<E, R> {
  /** Consumes the answer's events (and shows them); its failure is the turn's failure. */
  readonly render: (events: Stream.Stream<LlmEvent, ProviderError>) => Effect.Effect<void, E, R>
  /** The output cap for this answer (default: the entry's max tokens). */
  readonly maxOutputTokens?: number | undefined
  /** Tools offered to the model for this answer, and whether it may (or must) call one. */
  readonly tools?: ReadonlyArray<ToolDefinition> | undefined
  readonly toolChoice?: ToolChoice | undefined
  /** -r / /effort: over the model's own reasoningEffort (and settings.json's). */
  readonly reasoningEffort?: ReasoningEffort | undefined
  /** Images sent with the message (before its text). Check them first with `imagesRefused`. */
  readonly images?: ReadonlyArray<ImagePart> | undefined
  /** Told before each retry. */
  readonly onRetry?: ((info: RetryInfo) => Effect.Effect<void>) | undefined
  /**
   * What a new conversation is called in `byok sessions` and `byok cost`, when its first message is not the best
   * label: exec's prompt argument, where the message also carries piped stdin before it.
   */
  readonly label?: string | undefined
  /**
   * Told what the user should know about a local server: before any of the answer (or its failure) shows, that
   * the prompt will not fit the context it serves; after an Ollama answer, that Ollama dropped the start of it.
   */
  readonly onNotice?: ((text: string) => Effect.Effect<void>) | undefined
  /** Told when the conversation is compacted to fit the window (else onNotice is). */
  readonly onCompact?: ((text: string) => Effect.Effect<void>) | undefined
}

/** The next request's size and its parts, in tokens (byok's estimate), and the window it must fit. */
export interface ContextUse {
  readonly used: number
  readonly window: Window
  readonly parts: {
    readonly system: number
    readonly agents: number
    readonly tools: number
    readonly summary: number
    readonly conversation: number
    readonly results: number
  }
}

export interface Conversation {
  readonly id: string
  readonly system: string | undefined
  /** The model the next turn goes to. */
  readonly model: Selected
  readonly turns: ReadonlyArray<Turn>
  /**
   * One turn. Only the answer's stream can be interrupted: recording and saving always run. A caller that needs
   * the result even when the turn is interrupted (to print it) runs `send` and what follows in
   * `Effect.uninterruptible`; the stream still stops at once.
   */
  readonly send: <E, R>(input: string | ReadonlyArray<UserPart>, options: SendOptions<E, R>) => Effect.Effect<TurnResult, never, R>
  /**
   * Results of calls that ran (or were stopped) without a request after them: kept in the conversation and saved,
   * so that the next request (this run's, or `-c`'s) tells the model what happened to each.
   */
  readonly keepResults: (parts: ReadonlyArray<ToolResultPart>) => Effect.Effect<StoreError | undefined>
  /** The conversation continues on another model, whatever its wire format; the history is carried over. */
  readonly switchModel: (selected: Selected) => void
  /** Why the current model cannot take these images (droid's noImageSupport, the API's limits), or undefined. */
  readonly imagesRefused: (images: ReadonlyArray<ImagePart>) => string | undefined
  /** How full the next request is, by byok's estimate, against the current model's window, and of what. */
  readonly context: (tools?: ReadonlyArray<ToolDefinition> | undefined) => ContextUse
  /**
   * /compact: summarises all but the latest turns now, the summary steered by `instructions`; undefined when done,
   * else why it could not be.
   */
  readonly compact: (instructions: string | undefined, notify: (text: string) => Effect.Effect<void>) => Effect.Effect<string | undefined>
  /** Starts a new conversation (a new id, no turns) on the same model. */
  readonly clear: () => void
  /** Writes ledger rows a busy ledger made wait, with the ordinary wait: how many are still unwritten. */
  readonly flush: Effect.Effect<number, StoreError>
  /** What the ledger says this conversation, and everything on record, cost. */
  readonly costs: Effect.Effect<{ readonly conversation: Totals; readonly allTime: Totals }, StoreError>
}

/**
 * Usage counted by byok: the input from the request (unless the server already said it, as Anthropic does when an
 * answer starts), the output from the text that came; OpenAI's tokenizer for OpenAI models, else about four
 * characters a token (lib/tokens.ts).
 */
const estimateUsage = (
  known: Usage | undefined,
  system: string | undefined,
  asked: ReadonlyArray<Turn>,
  output: string,
  model: string,
  provider: ProviderName
): Effect.Effect<Usage> =>
  Effect.map(Effect.promise(() => counterFor(model)), (counter) => {
    const prompt = known !== undefined && known.input.total > 0 ? undefined : estimatePrompt(system, asked, counter.count, imageCost(provider))
    const estimate = makeUsage({
      ...(prompt !== undefined
        ? { uncached: prompt }
        : {
          uncached: known!.input.uncached,
          cacheRead: known!.input.cacheRead,
          cacheWrite: known!.input.cacheWrite,
          cacheWrite1h: known!.input.cacheWrite1h
        }),
      output: Math.max(known?.output.total ?? 0, counter.count(output)),
      reasoning: known?.output.reasoning,
      native: known?.native ?? null
    })
    return { ...estimate, estimated: true }
  })

/**
 * A delta's text through its redactor: what may be shown now goes out as an event (the same one when nothing was
 * held back or hidden), and is returned to be kept.
 */
const passRedacted = (
  redactor: StreamRedactor,
  event: Extract<LlmEvent, { _tag: "TextDelta" | "ReasoningDelta" }>,
  out: Array<LlmEvent>
): string => {
  const text = redactor.push(event.text)
  if (text !== "") out.push(text === event.text ? event : { _tag: event._tag, text })
  return text
}

/** What an image part costs in the prompt, by its API's formula (providers/images.ts). */
const imageCost = (provider: ProviderName) => (part: { readonly type: string }) =>
  part.type === "image" ? imageTokens(part as ImagePart, provider) : 0

/** Whether a turn failed with this ProviderError reason. */
const failedWith = (cause: Cause.Cause<unknown>, tag: string): boolean => {
  const ending = endingOf(cause)
  return ending._tag === "Failed" && ending.error instanceof ProviderError && ending.error.reason._tag === tag
}

/**
 * Whether a failure is one a fallback model may not share: before any of the answer, a rate limit, an overload or
 * server error, or a connection that failed or timed out (not TLS, which needs the user; nor a key, a request or a
 * context that is wrong, which another model would refuse as well or which need the user).
 */
const fallbackWorthy = (cause: Cause.Cause<unknown>): boolean => {
  const ending = endingOf(cause)
  if (ending._tag !== "Failed" || !(ending.error instanceof ProviderError) || ending.error.midStream) return false
  const reason = ending.error.reason
  return reason._tag === "RateLimitError" || reason._tag === "ProviderInternalError" ||
    (reason._tag === "ConnectionError" && reason.kind !== "tls")
}

/** The ledger's outcome for a turn that did not succeed. */
const outcomeOf = (cause: Cause.Cause<unknown>): string => {
  const ending = endingOf(cause)
  switch (ending._tag) {
    case "Interrupted":
    case "OutputClosed":
      return "interrupted"
    case "OutputFailed":
      return "OutputError"
    case "Failed": {
      const error = ending.error
      if (error instanceof ProviderError) return error.reason._tag
      const tag = (error as { _tag?: unknown } | undefined)?._tag
      return typeof tag === "string" ? tag : "defect"
    }
    case "Defect":
      return "defect"
  }
}

export interface MakeOptions {
  readonly selected: Selected
  readonly system?: string | undefined
  /** The saved conversation to go on with: its id and its turns. */
  readonly resumed?: StoredSession | undefined
  readonly maxRetries: number
  /** Seconds, from --timeout or BYOK_TIMEOUT: both limits, for every model. */
  readonly timeout?: number | undefined
  /** Turns are not saved as a conversation (the doctor's test requests); the ledger still records them. */
  readonly ephemeral?: boolean | undefined
  /** The conversation id to book under (a summary request is booked under the conversation it summarises). */
  readonly id?: string | undefined
  /** settings.json's `autoCompact` (default true): compact before a request that would not fit the window. */
  readonly autoCompact?: boolean | undefined
  /** settings.json's `compactionModel`: the model that writes summaries (default: the conversation's own). */
  readonly compactionModel?: Selected | undefined
  /** The models that answer, in order, when the current one cannot (the entry's `fallbackModels`, then `--fallback-model`). */
  readonly fallbacks?: ReadonlyArray<Selected> | undefined
}

/** A conversation on the given model, new or resumed. */
export const make = Effect.fn("Conversation.make")(function*(options: MakeOptions) {
  const provider = yield* Provider
  const ledger = yield* CostLedger
  const sessions = yield* SessionStore
  const redactor = yield* Redactor
  const servers = yield* LocalServers
  const clock = yield* Clock.Clock
  /** What a summary request (a conversation of its own) runs with: this one's services. */
  const services = yield* Effect.context<Provider | CostLedger | SessionStore | Redactor | LocalServers>()
  const now = () => clock.currentTimeMillisUnsafe()
  /** For durations: a clock that never moves back (the wall clock may: NTP, a user setting the time). */
  const elapsed = () => Number(clock.monotonicTimeNanosUnsafe()) / 1_000_000

  let id = options.id ?? options.resumed?.id ?? crypto.randomUUID()
  let selected = options.selected
  const fallbacks = (options.fallbacks ?? []).filter((f) => f.entry.displayName !== options.selected.entry.displayName)
  let nextFallback = 0
  let turns: ReadonlyArray<Turn> = mergeUserTurns(options.resumed?.messages.map((m) => ({ role: m.role, parts: m.parts }) as Turn) ?? [])
  /** Notices said once a conversation (one about a cap too small to think, not one per request of a loop). */
  const said = new Set<string>()
  const system = options.system ?? options.resumed?.system
  /** What of the turns is summarised and pruned (compaction.ts); saved with the session. */
  let compacted: Compacted = options.resumed?.compacted ?? NOTHING_COMPACTED
  /** Windows learned this run: from a server's overflow error (it names its own) or its properties. */
  const learned = new Map<string, Window>()
  /** The last answer's real size (its prompt and its output, as the server counted), and what it covered. */
  let lastSeen: { readonly tokens: number; readonly turns: number; readonly compacted: Compacted } | undefined
  /** What local servers said they serve each model with (llama.cpp's n_ctx, Ollama's context_length…). */
  const servedWindow = new Map<string, number>()
  const windowNow = (entry: ModelEntry): Window => learned.get(entry.displayName) ?? windowOf(entry, servedWindow.get(entry.displayName))
  const toolTokens = (tools: ReadonlyArray<ToolDefinition> | undefined) => (tools === undefined || tools.length === 0 ? 0 : estimateTokens(JSON.stringify(tools)))

  /**
   * The next request's size, without counting the whole history each step: `base`, the last answer's real figures
   * (its prompt and output as the server counted them), and `added`, what came since, by byok's count. After a
   * compaction, or with no answer yet, the whole view is counted.
   */
  const measure = (message: Turn | undefined, tools: ReadonlyArray<ToolDefinition> | undefined): { readonly base: number; readonly added: number } => {
    const extra = message !== undefined ? turnTokens(message) : 0
    if (lastSeen !== undefined && lastSeen.compacted === compacted && lastSeen.turns <= turns.length) {
      let added = 0
      for (let i = lastSeen.turns; i < turns.length; i++) added += turnTokens(turns[i]!)
      return { base: lastSeen.tokens, added: added + extra }
    }
    const view = viewOf(turns, compacted)
    return { base: 0, added: (system !== undefined ? estimateTokens(system) : 0) + toolTokens(tools) + view.reduce((n, t) => n + turnTokens(t), 0) + extra }
  }
  /**
   * How many of a model's tokens one of byok's counted tokens is (its tokenizer may count twice as many for the same
   * text), learned this run from what its server counted: each answer's prompt, and an overflow error's figure.
   */
  const scales = new Map<string, number>()
  const learnScale = (model: string, measured: { readonly base: number; readonly added: number }, real: number) => {
    if (measured.added < 64) return
    scales.set(model, Math.min(8, Math.max(0.5, (real - measured.base) / measured.added)))
  }
  const estimateNext = (message: Turn | undefined, tools: ReadonlyArray<ToolDefinition> | undefined): number => {
    const { base, added } = measure(message, tools)
    return base + Math.ceil(added * (scales.get(selected.entry.displayName) ?? 1))
  }

  /** How much of the recent conversation a summary keeps verbatim: a third of the room, in byok's count. */
  const keepFor = (room: number) => Math.max(0, room / 3 / (scales.get(selected.entry.displayName) ?? 1))

  /** Saves what is summarised and pruned with the session (the turns it covers are saved already). */
  const saveCompacted = () => (options.ephemeral || turns.length === 0 ? Effect.void : sessions.compact(id, compacted).pipe(Effect.ignore))

  /**
   * Summarises the turns from `through` up to a clean cut that leaves about `keepTokens` verbatim, merging them into
   * the summary so far (anchored: what is summarised already is not summarised again). The summary request goes to
   * the compaction model, booked under this conversation. Undefined: done; a string: why it could not be.
   */
  const summarise = (keepTokens: number, instructions: string | undefined, notify: (text: string) => Effect.Effect<void>) =>
    Effect.gen(function*() {
      const cut = cutFor(turns, compacted, keepTokens)
      if (cut === undefined) return "there is nothing older than the latest turns to summarise"
      const writer = options.compactionModel ?? selected
      const output = Math.min(SUMMARY_OUTPUT, writer.entry.maxOutputTokens)
      const window = windowNow(writer.entry).tokens
      const room = window - output - marginOf(window)
      let summary = compacted.summary
      const span = transcript(turns.slice(compacted.through, cut))
      const scale = scales.get(writer.entry.displayName) ?? 1
      for (const piece of piecesOf(span, (room - estimateTokens(summary ?? "") * scale - estimateTokens(SUMMARY_SYSTEM) * scale) / scale)) {
        const writing = yield* Effect.provideContext(
          make({ selected: writer, system: SUMMARY_SYSTEM, maxRetries: options.maxRetries, timeout: options.timeout, ephemeral: true, id, autoCompact: false }),
          services
        )
        const result = yield* writing.send(summaryRequest(summary, piece, instructions), {
          render: Stream.runDrain,
          maxOutputTokens: output
        })
        if (result.failure !== undefined || result.text.trim() === "") {
          return `the summary request failed (${result.failure !== undefined ? result.outcome : "an empty answer"})`
        }
        summary = result.text.trim()
      }
      const before = compacted
      compacted = { summary, through: cut, pruned: Math.max(compacted.pruned, cut) }
      yield* saveCompacted()
      yield* notify(`compacted: ${cut - before.through} turns → a ${formatK(estimateTokens(summary ?? ""))}-token summary`)
      return undefined
    })

  /**
   * Before a request that would not fit the window (less the room for the answer and a margin): first prune old
   * tool results, then, if that is not enough, summarise the oldest span. Off with autoCompact: false.
   */
  const fit = (message: Turn, opts: SendOptions<unknown, unknown>, notify: (text: string) => Effect.Effect<void>) =>
    Effect.gen(function*() {
      const entry = selected.entry
      const estimate = estimateNext(message, opts.tools)
      // A local server says what it serves: asked (once a process) when the conversation is as long as the smallest
      // windows local servers are started with (2,048 tokens).
      if (entry.endpoint.isLocal && entry.contextWindow === undefined && !servedWindow.has(entry.displayName) && estimate > SMALL_WINDOW) {
        const facts = yield* servers.recognise(entry)
        if (facts?.context !== undefined) servedWindow.set(entry.displayName, facts.context)
      }
      const room = windowNow(entry).tokens - (opts.maxOutputTokens ?? entry.maxOutputTokens) - marginOf(windowNow(entry).tokens)
      if (estimate <= room) return
      const pruned = pruneTo(turns, compacted)
      if (pruned.pruned > compacted.pruned && turns.slice(compacted.pruned, pruned.pruned).some((t) => t.parts.some((p) => p.type === "tool-result"))) {
        compacted = pruned
        yield* saveCompacted()
        if (estimateNext(message, opts.tools) <= room) {
          yield* notify(`compacted: tool results of ${compacted.pruned} turns pruned (the session keeps them whole)`)
          return
        }
      }
      const why = yield* summarise(keepFor(room), undefined, notify)
      if (why !== undefined) yield* notify(`the conversation may not fit the context window and could not be compacted: ${why}`)
    })

  const send = <E, R>(input: string | ReadonlyArray<UserPart>, opts: SendOptions<E, R>): Effect.Effect<TurnResult, never, R> =>
    Effect.gen(function*() {
      const notify = (text: string) => opts.onCompact?.(text) ?? opts.onNotice?.(text) ?? Effect.void
      const message: Turn = typeof input !== "string"
        ? { role: "user", parts: input }
        : { role: "user", parts: [...(opts.images ?? []), { type: "text", text: input }] }
      if (options.autoCompact !== false) yield* fit(message, opts as SendOptions<unknown, unknown>, notify)
      let first = yield* sendNow(input, opts)
      // The model could not answer for a reason another model would not share (a rate limit, an overload or 5xx, a
      // connection that failed or timed out before the answer began): the same conversation goes to the next
      // fallback, as a switch of model would, and stays there for the rest of the run.
      while (first.failure !== undefined && fallbackWorthy(first.failure) && nextFallback < fallbacks.length) {
        const from = selected.entry.displayName
        selected = fallbacks[nextFallback++]!
        const why = (endingOf(first.failure) as { error: ProviderError }).error.reason.message
        yield* (opts.onNotice?.(`${from} could not answer (${why.slice(0, 160)}); ${selected.entry.displayName} answers instead (a fallback model)`) ?? Effect.void)
        first = yield* sendNow(input, opts)
      }
      // The server says the request did not fit: what it says its window is (llama.cpp's n_ctx) is believed for the
      // rest of the run, and the conversation is compacted once and the request sent once more.
      if (first.failure === undefined || !failedWith(first.failure, "ContextLengthExceeded") || first.text !== "") return first
      const reason = (endingOf(first.failure) as { error: ProviderError }).error.reason as { contextTokens?: number; promptTokens?: number }
      const entry = selected.entry
      if (reason.promptTokens !== undefined) learnScale(entry.displayName, measure(message, opts.tools), reason.promptTokens)
      const sent = estimateNext(message, opts.tools)
      const window: Window = reason.contextTokens !== undefined
        ? { tokens: reason.contextTokens, source: "error" }
        : { tokens: Math.min(windowNow(entry).tokens, Math.floor(sent * 0.8)), source: "error" }
      learned.set(entry.displayName, window)
      if (options.autoCompact === false) return first
      const room = window.tokens - (opts.maxOutputTokens ?? entry.maxOutputTokens) - marginOf(window.tokens)
      compacted = pruneTo(turns, compacted)
      if (estimateNext(message, opts.tools) > room) {
        const why = yield* summarise(keepFor(room), undefined, notify)
        if (why !== undefined) return first
      } else {
        yield* saveCompacted()
        yield* notify(`compacted: tool results of ${compacted.pruned} turns pruned (the session keeps them whole)`)
      }
      return yield* sendNow(input, opts)
    })

  const sendNow = <E, R>(input: string | ReadonlyArray<UserPart>, opts: SendOptions<E, R>): Effect.Effect<TurnResult, never, R> =>
    Effect.uninterruptible(Effect.gen(function*() {
      const { entry, price } = selected
      // A message of the user's (text, with any images before it), or what tools gave back (the agent loop).
      const message: Turn = typeof input !== "string"
        ? { role: "user", parts: input }
        : opts.images !== undefined && opts.images.length > 0
        ? { role: "user", parts: [...opts.images, { type: "text", text: input }] }
        : userText(input)
      // (after results byok kept when the user stopped the tools, the message joins their turn)
      const asked: ReadonlyArray<Turn> = mergeUserTurns([...turns, message])
      /** This request's size as byok counts it, to learn from what the server counts (learnScale). */
      const measured = measure(message, opts.tools)
      const maxOutputTokens = opts.maxOutputTokens ?? entry.maxOutputTokens
      const notice = (words: string) => opts.onNotice?.(words) ?? Effect.void
      const noThinking = entry.provider === "anthropic" ? noRoomToThink(opts.reasoningEffort ?? selected.reasoningEffort, maxOutputTokens, entry.model) : undefined
      if (noThinking !== undefined && !said.has(noThinking)) {
        said.add(noThinking)
        yield* notice(noThinking)
      }
      // A local server is asked (once per process) what context it serves, so that a prompt that will not fit is
      // said before any of the answer (or its failure) shows: llama.cpp and vLLM refuse it, but Ollama silently
      // drops its start. The question runs while the request is on its way rather than before it.
      const probe = entry.endpoint.isLocal ? yield* Effect.forkChild(servers.recognise(entry)) : undefined
      /** The prompt's size by byok's count, for what a local server's answers mean (unused for other hosts). */
      const estimate = probe !== undefined ? estimatePrompt(system, asked, undefined, imageCost(entry.provider)) : 0
      let served: Served | undefined
      let fitChecked = probe === undefined
      const checkFit = Effect.suspend(() => {
        if (fitChecked) return Effect.void
        fitChecked = true
        return Effect.flatMap(Fiber.join(probe!), (facts) => {
          served = facts
          if (facts?.context !== undefined) servedWindow.set(entry.displayName, facts.context)
          return facts?.context !== undefined && estimate + maxOutputTokens > facts.context
            ? notice(wontFit(entry, facts.kind, estimate, maxOutputTokens, facts.context))
            : Effect.void
        })
      })
      const startedAt = now()
      const clockStart = elapsed()
      // What was seen of the answer, filled in as its events pass, a network chunk at a time.
      let answer = ""
      let usage: Usage | undefined
      let finish: FinishEvent | undefined
      let requestId: string | undefined
      let firstTokenAt: number | undefined
      // The answer is server text: a configured secret in it is hidden before anyone sees or saves it, even when
      // it arrives split across two deltas (the end of one that could start a secret waits for the next).
      const texts = redactor.stream(false)
      const reasoning = redactor.stream(false)
      const rowOf = (outcome: string) => {
        const endedAt = elapsed()
        return buildRow({
          entry,
          conversationId: id,
          startedAt,
          durationMs: Math.round(endedAt - clockStart),
          ttftMs: firstTokenAt !== undefined ? Math.round(firstTokenAt - clockStart) : undefined,
          usage,
          outcome,
          stopReason: finish?.rawReason !== undefined ? redactor.redact(finish.rawReason) : finish?.reason,
          requestId,
          price
        })
      }
      // On record from the start: a byok killed outright (SIGKILL) leaves this row, "running", with the usage
      // known so far, rather than nothing. The row is written, and the session store opened, while the request is
      // on its way (forked: they run once this fiber waits on the network), not before it: both are synchronous
      // SQLite work of a millisecond or two.
      const beginning = yield* Effect.forkChild(ledger.begin(rowOf("running")))
      if (!options.ephemeral) yield* Effect.forkChild(sessions.prepare)
      let usageSeen = false
      /** The server accepted the request (its answer began): it has counted the prompt, whatever comes next. */
      let started = false
      let thought = ""
      /** What the answer held that byok could not read: said after it (onNotice), once each. */
      const warnings: Array<string> = []
      // The answer as parts, in the order they came: text, reasoning (with what it needs to go back), tool calls.
      const parts: Array<Mutable<AssistantPart>> = []
      const calls = new Map<number, Mutable<ToolCallPart>>()
      const addText = (t: string) => {
        if (t === "") return
        const last = parts.at(-1)
        if (last?.type === "text") last.text += t
        else parts.push({ type: "text", text: t })
      }
      /** The reasoning part being written (one with a signature or encrypted content is closed). */
      let openReasoning: Mutable<ReasoningPart> | undefined
      const addReasoning = (t: string) => {
        if (t === "") return
        if (openReasoning === undefined) {
          openReasoning = { type: "reasoning", text: "", format: entry.provider, model: entry.model }
          parts.push(openReasoning)
        }
        openReasoning.text += t
      }
      /** Text the redactors still hold goes out (and into its part) before a part of another kind begins. */
      const flushHeld = (out: Array<LlmEvent>) => {
        const heldReasoning = reasoning.end()
        if (heldReasoning !== "") {
          out.push({ _tag: "ReasoningDelta", text: heldReasoning })
          thought += heldReasoning
          addReasoning(heldReasoning)
        }
        const heldText = texts.end()
        if (heldText !== "") {
          out.push({ _tag: "TextDelta", text: heldText })
          answer += heldText
          addText(heldText)
        }
      }
      const events = provider.stream({
        model: entry,
        conversation: { id, system, turns: viewOf(asked, compacted) },
        maxOutputTokens,
        ...(opts.tools !== undefined && opts.tools.length > 0 ? { tools: opts.tools, toolChoice: opts.toolChoice } : {}),
        reasoningEffort: opts.reasoningEffort ?? selected.reasoningEffort,
        timeouts: timeoutsFor(entry, options.timeout),
        maxRetries: options.maxRetries,
        ...(opts.onRetry !== undefined ? { onRetry: opts.onRetry } : {})
      }).pipe(Stream.mapAccumArray(() => undefined, (_, batch) => {
        const out: Array<LlmEvent> = []
        for (const event of batch) {
          switch (event._tag) {
            case "TextDelta": {
              firstTokenAt ??= elapsed()
              const shown = passRedacted(texts, event, out)
              answer += shown
              addText(shown)
              break
            }
            case "ReasoningDelta": {
              firstTokenAt ??= elapsed()
              const shown = passRedacted(reasoning, event, out)
              thought += shown
              addReasoning(shown)
              break
            }
            case "ReasoningEnd": {
              flushHeld(out)
              const part: Mutable<ReasoningPart> = openReasoning ??
                { type: "reasoning", text: "", format: entry.provider, model: entry.model }
              if (openReasoning === undefined) parts.push(part)
              if (event.signature !== undefined) part.signature = event.signature
              if (event.redacted !== undefined) part.redacted = event.redacted
              if (event.itemId !== undefined) part.itemId = event.itemId
              if (event.encrypted !== undefined) part.encrypted = event.encrypted
              openReasoning = undefined
              out.push(event)
              break
            }
            case "ToolCallStart": {
              firstTokenAt ??= elapsed()
              flushHeld(out)
              openReasoning = undefined
              const call: Mutable<ToolCallPart> = { type: "tool-call", id: event.id, name: event.name, arguments: "", kind: event.kind }
              calls.set(event.index, call)
              parts.push(call)
              out.push(event)
              break
            }
            case "ToolCallDelta": {
              const call = calls.get(event.index)
              if (call !== undefined) call.arguments += event.text
              out.push(event)
              break
            }
            case "ToolCallEnd":
              out.push(event)
              break
            case "Usage":
              usage = event.usage
              usageSeen = true
              out.push(event)
              break
            case "Warning":
              if (!warnings.includes(event.text)) warnings.push(event.text)
              out.push(event)
              break
            case "Finish": {
              flushHeld(out)
              finish = event
              usage = event.usage
              out.push(event)
              break
            }
            case "Start":
              started = true
              requestId = event.requestId === undefined ? undefined : redactor.redact(event.requestId)
              out.push(event)
              break
          }
        }
        return [undefined, out] as const
      }), (stream) =>
        Stream.mapArrayEffect(stream, (batch) => {
          if (fitChecked && !usageSeen) return Effect.succeed(batch)
          // Usage known before the end (Anthropic's message_start) goes on the running row at once.
          const progress = usageSeen
            ? Effect.flatMap(Fiber.join(beginning), (rowId) => rowId === undefined ? Effect.void : ledger.progress(rowId, rowOf("running")))
            : Effect.void
          usageSeen = false
          return checkFit.pipe(Effect.andThen(progress), Effect.as(batch))
        }))
      const exit = yield* Effect.exit(Effect.interruptible(opts.render(events)))
      // A failure before any of the answer came: what the local server said of the prompt's size comes first.
      yield* checkFit
      for (const words of warnings) yield* notice(redactor.redact(words))
      const rowId = yield* Fiber.join(beginning)
      // Cut short: what the redactors still held is part of the answer as far as it came.
      if (Exit.isFailure(exit)) {
        const heldText = texts.end()
        const heldReasoning = reasoning.end()
        answer += heldText
        thought += heldReasoning
        addReasoning(heldReasoning)
        addText(heldText)
      }
      // The calls' arguments are model text too: a configured secret in them is hidden before they are kept.
      for (const call of calls.values()) call.arguments = redactor.redact(call.arguments)
      let toolCalls: ReadonlyArray<ToolCallPart> = [...calls.values()]
      // Tools were offered and the model wrote its calls as text (local models often do): read as real calls.
      const recovered = Exit.isSuccess(exit) && toolCalls.length === 0 && opts.tools !== undefined
        ? recoverToolCalls(answer, opts.tools)
        : undefined
      if (recovered !== undefined) {
        toolCalls = recovered.calls
        const kept = parts.filter((p) => p.type !== "text")
        parts.length = 0
        parts.push(...kept, ...(recovered.rest !== "" ? [{ type: "text" as const, text: recovered.rest }] : []), ...recovered.calls)
        if (finish !== undefined) finish = { ...finish, reason: "tool-calls" }
        yield* notice(
          `the model wrote ${recovered.calls.length === 1 ? "its tool call" : `${recovered.calls.length} tool calls`} as text; ` +
            "byok read it as a call (marked recovered)"
        )
      }
      const callText = toolCalls.map((c) => `${c.name}${c.arguments}`).join("")

      // The server's count never came (the answer was cut off, or the server sends none): what it billed is
      // counted by byok instead, and said to be an estimate everywhere it shows.
      // A response byok could not read came with HTTP 200: the server took the request, and may bill it.
      const unreadable = Exit.isFailure(exit) && failedWith(exit.cause, "InvalidResponseError")
      if (
        (finish === undefined || usage === undefined || usage.native === null) &&
        (started || unreadable || answer !== "" || thought !== "" || callText !== "")
      ) {
        usage = yield* estimateUsage(usage, system, asked, answer + thought + callText, entry.model, entry.provider)
      }
      const failure = Exit.isFailure(exit) ? yield* withServerFacts(exit.cause) : undefined
      const outcome = failure === undefined ? "ok" : outcomeOf(failure)
      // Ollama says how much of the prompt it read: far less than was sent means it dropped the start.
      if (
        served?.kind === "ollama" && usage !== undefined && usage.input.total > 0 &&
        estimate > usage.input.total * 1.5 && estimate > (served.context ?? 0)
      ) {
        yield* notice(droppedByOllama(entry, usage.input.total, estimate, served.context))
      }
      const row = rowOf(outcome)
      const endedAt = startedAt + row.durationMs
      const recorded = yield* ledger.record(row, rowId).pipe(Effect.catch((error) => Effect.succeed<StoreError>(error)))
      const telemetry = yield* Telemetry
      if (telemetry.on) {
        yield* telemetry.request({
          row,
          failure: Exit.isFailure(exit) ? exit.cause : undefined,
          content: () => ({
            input: (message.parts as ReadonlyArray<UserPart>).map((p) => (p.type === "text" ? redactor.redact(p.text) : "")).join(""),
            output: answer
          })
        })
      }

      // An answer, or the part of one that was stopped, joins the conversation; a failed one does not.
      let saveError: StoreError | undefined
      const interrupted = outcome === "interrupted"
      const kept = outcome === "ok" || (interrupted && (answer !== "" || toolCalls.length > 0))
      const reply: Turn = { role: "assistant", parts: parts.length > 0 ? parts : [{ type: "text", text: "" }] }
      if (kept) turns = [...asked, reply]
      if (kept && outcome === "ok" && usage !== undefined && usage.input.total > 0) {
        if (!usage.estimated) learnScale(entry.displayName, measured, usage.input.total)
        lastSeen = { tokens: usage.input.total + usage.output.total, turns: turns.length, compacted }
      }
      if (kept && !options.ephemeral) {
        saveError = yield* sessions.append({
          id,
          system: system !== undefined ? redactor.redact(system) : undefined,
          title: opts.label !== undefined ? redactor.redact(opts.label) : undefined
        }, [
          storedMessage(entry, {
            role: "user",
            parts: (message.parts as ReadonlyArray<UserPart>).map((p) => (p.type === "text" ? { ...p, text: redactor.redact(p.text) } : p))
          }, startedAt),
          storedMessage(entry, reply, endedAt, interrupted)
        ]).pipe(Effect.as(undefined), Effect.catch((error) => Effect.succeed(error)))
      }
      return {
        entry,
        price,
        text: answer,
        toolCalls,
        usage,
        finish,
        requestId,
        outcome,
        startedAt,
        durationMs: endedAt - startedAt,
        ttftMs: row.ttftMs,
        failure,
        row,
        recorded,
        saveError
      }
    }))

  /**
   * A context error or a 404 gets the facts of the server that answered (its kind, the context it serves, its
   * models), asked after the error, so the message can name the fix for that server.
   */
  const withServerFacts = (cause: Cause.Cause<unknown>): Effect.Effect<Cause.Cause<unknown>> => {
    const ending = endingOf(cause)
    if (ending._tag !== "Failed" || !(ending.error instanceof ProviderError)) return Effect.succeed(cause)
    const error = ending.error
    if (error.reason._tag !== "ContextLengthExceeded" && error.reason._tag !== "ModelNotFound") return Effect.succeed(cause)
    return Effect.map(servers.recognise(error.entry), (facts) =>
      facts === undefined ? cause : Cause.fail(new ProviderError({
        ...error,
        served: { kind: facts.kind, models: facts.models, ...(facts.context !== undefined ? { context: facts.context } : {}) }
      })))
  }

  const conversation: Conversation = {
    get id() {
      return id
    },
    system,
    get model() {
      return selected
    },
    get turns() {
      return turns
    },
    send,
    keepResults: (parts) =>
      Effect.gen(function*() {
        const turn: Turn = { role: "user", parts }
        turns = [...turns, turn]
        if (options.ephemeral) return undefined
        return yield* sessions.append({ id, system: system !== undefined ? redactor.redact(system) : undefined, title: undefined }, [
          storedMessage(selected.entry, turn, now())
        ]).pipe(Effect.as(undefined), Effect.catch((error) => Effect.succeed(error)))
      }),
    imagesRefused: (images) => imagesRefused(selected.entry, images),
    switchModel: (next) => {
      selected = next
    },
    clear: () => {
      id = crypto.randomUUID()
      turns = []
      compacted = NOTHING_COMPACTED
      lastSeen = undefined
    },
    context: (tools) => {
      const sections = (system ?? "").split("\n\n")
      const agents = sections.filter((x) => x.startsWith("Instructions from ")).reduce((n, x) => n + estimateTokens(x), 0)
      let summary = 0
      let conversation = 0
      let results = 0
      for (const turn of viewOf(turns, compacted)) {
        for (const part of turn.parts) {
          const size = turnTokens({ role: turn.role, parts: [part] } as Turn) - 4
          if (part.type === "tool-result") results += size
          else if (part.type === "text" && part.text.startsWith("[The conversation so far, summarised by byok")) summary += size
          else conversation += size
        }
      }
      const parts = {
        system: (system !== undefined ? estimateTokens(system) : 0) - agents,
        agents,
        tools: toolTokens(tools),
        summary,
        conversation,
        results
      }
      return { used: estimateNext(undefined, tools), window: windowNow(selected.entry), parts }
    },
    compact: (instructions, notify) =>
      Effect.gen(function*() {
        compacted = pruneTo(turns, compacted)
        return yield* summarise(0, instructions, notify)
      }),
    flush: ledger.flush,
    costs: Effect.gen(function*() {
      const conversation = yield* ledger.report({ conversation: id })
      const allTime = yield* ledger.report({})
      return { conversation: conversation.total, allTime: allTime.total }
    })
  }
  return conversation
})

export interface OpenOptions {
  /** `-m NAME`. */
  readonly model?: string | undefined
  /** `-s ID`: a saved conversation by id or id prefix. */
  readonly session?: string | undefined
  /** `-c`: the most recent saved conversation. */
  readonly continue?: boolean | undefined
  /** `--system`; a resumed conversation keeps its own otherwise. */
  readonly system?: string | undefined
  /** `--fallback-model NAME` (repeatable): after the entry's own `fallbackModels`. */
  readonly fallbackModels?: ReadonlyArray<string> | undefined
  readonly maxRetries: number
  readonly timeout?: number | undefined
}

/** The saved conversation that `-s ID` or `-c` names, or undefined for a new one. */
const findSession = (options: OpenOptions) =>
  Effect.gen(function*() {
    const sessions = yield* SessionStore
    if (options.session !== undefined) {
      const found = yield* sessions.load(options.session)
      if (found === undefined) {
        return yield* new UsageError({
          detail: `No saved conversation "${options.session}"`,
          hint: "`byok sessions` lists them."
        })
      }
      return found
    }
    if (options.continue === true) {
      const found = yield* sessions.latest
      if (found === undefined) {
        return yield* new UsageError({ detail: "No saved conversation to continue", hint: "Start one with `byok`." })
      }
      return found
    }
    return undefined
  })

/**
 * Opens the conversation a command's flags ask for: new, or resumed (its id, turns and system prompt), on the
 * model `-m` names, else the one the saved conversation last used, else the default.
 */
export const open = (options: OpenOptions) =>
  Effect.gen(function*() {
    const config = yield* ConfigService
    const resumed = yield* findSession(options)
    const selected = yield* config.select({ name: options.model, saved: resumed?.modelName })
    // The model the conversation was on is gone from the config: another one answers now, and the user hears it.
    const moved = resumed !== undefined && options.model === undefined && resumed.modelName !== undefined &&
        resumed.modelName !== selected.entry.displayName
      ? [
        `this conversation was on "${resumed.modelName}", which is no longer configured; ` +
        `"${selected.entry.displayName}" answers now (-m NAME picks another)`
      ]
      : []
    // Compaction's settings: a compactionModel that cannot be used is said, and the conversation's own model writes.
    const loaded = yield* config.load.pipe(Effect.option)
    const settings = loaded._tag === "Some" ? loaded.value : undefined
    const writer = settings?.compactionModel !== undefined ? yield* Effect.option(config.select({ name: settings.compactionModel })) : undefined
    const unusableWriter = writer !== undefined && writer._tag === "None"
      ? [`compactionModel "${settings!.compactionModel}" is not a usable model; the conversation's own model writes its summaries`]
      : []
    // Fallback models: the entry's, then the command line's; a name that is not a usable model is said and skipped.
    const fallbacks: Array<Selected> = []
    const unusableFallbacks: Array<string> = []
    for (const name of [...(selected.entry.fallbackModels ?? []), ...(options.fallbackModels ?? [])]) {
      const found = yield* Effect.option(config.select({ name }))
      if (found._tag === "Some") {
        if (!fallbacks.some((f) => f.entry.displayName === found.value.entry.displayName)) fallbacks.push(found.value)
      } else unusableFallbacks.push(`fallback model "${name}" is not a usable model; it is skipped`)
    }
    const conversation = yield* make({
      fallbacks,
      selected,
      system: options.system,
      resumed,
      maxRetries: options.maxRetries,
      timeout: options.timeout,
      autoCompact: settings?.autoCompact ?? true,
      ...(writer !== undefined && writer._tag === "Some" ? { compactionModel: writer.value } : {})
    })
    return { conversation, resumed, warnings: [...moved, ...unusableWriter, ...unusableFallbacks, ...selected.warnings] }
  })
