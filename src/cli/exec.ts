// `byok exec`: a prompt in, the answer streamed to stdout, for scripts and CI. Diagnostics go to stderr only.
// Every run is saved as a conversation, so a script can go on with -s ID or --continue; with
// `--input-format stream-json` each stdin line is one user message of the same conversation, one result line out.
import { stripControls } from "../lib/controls.ts"
import { Cause, Effect, Exit, FileSystem, Option, Stdio, Stream } from "effect"
import { fstatSync, readFileSync } from "node:fs"
import { UsageError } from "../config/errors.ts"
import { type Conversation, open as openConversation, type TurnResult } from "../conversation/conversation.ts"
import { explainRetry } from "../explain/provider.ts"
import { explainStoreWarning, NOWHERE } from "../explain/store.ts"
import type { ExecInput } from "./inputs.ts"
import { describeCause, formatReport, QuietExit } from "./exit.ts"
import { endingOf } from "../lib/cause.ts"
import { Redactor } from "../lib/redact.ts"
import { openSandbox, shellEnvironment } from "../conversation/sandbox.ts"
import type { Sandbox } from "../sandbox/sandbox.ts"
import { runAgent } from "../conversation/agent.ts"
import { agentSystemPrompt } from "../conversation/context.ts"
import { autonomyOf, ConfigService } from "../config/config.ts"
import { toolsFor } from "../tools/registry.ts"
import type { McpHub } from "../mcp/hub.ts"
import { commandMessage, loadCustomCommands, SCRIPT_OUTPUT_LIMIT } from "../chat/custom.ts"

/** With --auto: the most requests of one loop unless --max-turns says. */
const DEFAULT_MAX_TURNS = 50
import { ExitCode } from "../explain/codes.ts"
import type { Autonomy, CommandRules } from "../sandbox/levels.ts"
import type { BuiltinTool } from "../tools/tool.ts"
import { closest, count } from "../lib/text.ts"
import type { ReasoningEffort } from "../config/schema.ts"
import type { ImagePart, ToolChoice, ToolDefinition } from "../providers/conversation.ts"
import { imageFromBytes } from "../providers/images.ts"
import { readTools } from "../providers/tools.ts"
import { maxRetriesSetting, reasoningEffortSetting, timeoutSetting, withConfig } from "./services.ts"
import {
  agentResultJson,
  failureResultJson,
  toolCallJson,
  finishNote,
  initJson,
  type OutputFormat,
  printJson,
  resultJson,
  streamAnswer,
  streamJsonLines
} from "./render.ts"
import { note, startSpinner, type Term, term, waitingFor, warn, writeErr } from "./term.ts"
import { callLine } from "./calls.ts"

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

interface Context {
  /** Whether a result object has been printed (-o json, stream-json). */
  readonly results: { printed: boolean }
  readonly t: Term
  /** --tools and --tool-choice. */
  readonly tools: ReadonlyArray<ToolDefinition>
  readonly toolChoice: ToolChoice | undefined
  readonly reasoningEffort: ReasoningEffort | undefined
  /** -i FILE: sent with the first message (a stream of messages sends them with the first line). */
  readonly images: { current: ReadonlyArray<ImagePart> }
  /** --auto: the model acts, with byok's tools, at this level. */
  readonly agent: AgentSettings | undefined
  readonly format: OutputFormat
  readonly maxOutputTokens: number | undefined
  readonly conversation: Conversation
}

/** Runs one prompt of the conversation and shows it; fails as the turn failed. */
const execTurn = (ctx: Context, prompt: string, label?: string) =>
  ctx.agent !== undefined ? agentTurn(ctx, ctx.agent, prompt, label) : plainTurn(ctx, prompt, label)

const plainTurn = (ctx: Context, prompt: string, label?: string) =>
  Effect.uninterruptible(Effect.gen(function*() {
    const { t, format, conversation } = ctx
    const entry = conversation.model.entry
    const stdio = yield* Stdio.Stdio
    const stopSpinner = yield* startSpinner(
      format === "text" && t.stderrIsTty,
      `${entry.displayName}…`,
      undefined,
      waitingFor(entry)
    )
    const turn = yield* conversation.send(prompt, {
      label,
      maxOutputTokens: ctx.maxOutputTokens,
      tools: ctx.tools,
      toolChoice: ctx.toolChoice,
      reasoningEffort: ctx.reasoningEffort,
      images: ctx.images.current,
      onRetry: (info) => warn(t, explainRetry(info)).pipe(Effect.provideService(Stdio.Stdio, stdio)),
      onNotice: (text) => warn(t, text).pipe(Effect.provideService(Stdio.Stdio, stdio)),
      onCompact: (text) => compactionNote(t, ctx.format, text).pipe(Effect.provideService(Stdio.Stdio, stdio)),
      render: (events) =>
        format === "text"
          ? streamAnswer(events, stopSpinner, t.stdoutIsTty)
          : format === "json"
          ? Stream.runDrain(events)
          : streamJsonLines(events, initJson(conversation.id, entry))
    })
    // Output stopped mid-line on a terminal (an error, Ctrl-C): what comes next starts on a line of its own.
    if (format === "text" && t.stdoutIsTty && turn.failure !== undefined && turn.text !== "" && !turn.text.endsWith("\n")) {
      yield* Stream.run(Stream.succeed("\n"), stdio.stdout({ endOnDone: false })).pipe(Effect.ignore)
    }
    // The calls the model asked for, one JSON line each after the text: byok exec runs none of them.
    if (format === "text" && turn.toolCalls.length > 0) {
      yield* Stream.run(
        Stream.succeed(turn.toolCalls.map((call) => `${JSON.stringify(toolCallJson(call))}\n`).join("")),
        stdio.stdout({ endOnDone: false })
      ).pipe(Effect.ignore)
    }
    ctx.images.current = []
    yield* storeWarnings(t, turn)
    if (format !== "text") {
      ctx.results.printed = true
      const report = turn.failure !== undefined && turn.outcome !== "interrupted" ? describeCause(turn.failure) : undefined
      // The turns of the conversation: those resumed, and this one whether or not it joined the conversation.
      const userTurns = conversation.turns.filter((t) => t.role === "user").length
      const joined = turn.outcome === "ok" || (turn.outcome === "interrupted" && turn.text !== "")
      yield* printJson(resultJson(
        turn,
        report !== undefined ? { type: turn.outcome, message: report.headline, code: report.code } : undefined,
        joined ? userTurns : userTurns + 1
      )).pipe(Effect.ignore)
    }
    const cut = finishNote(
      turn.finish,
      entry,
      ctx.maxOutputTokens ?? entry.maxOutputTokens,
      "--max-tokens",
      turn.toolCalls.length === 0 ? undefined : format === "text" ? "they are on stdout, one JSON line each" : "they are in tool_calls"
    )
    if (cut !== undefined) yield* note(t, cut)
    if (turn.failure !== undefined) return yield* Effect.failCause(turn.failure)
  }))

/** A compaction, said: a note on stderr, and in stream-json an event of its own. */
const compactionNote = (t: Term, format: OutputFormat, text: string) =>
  format === "stream-json" ? Effect.andThen(printJson({ type: "compaction", message: text }).pipe(Effect.ignore), note(t, text)) : note(t, text)

interface AgentSettings {
  readonly level: Autonomy
  /** Built-in and MCP tools: asked before each request, as a server's list can change. */
  readonly tools: () => ReadonlyArray<BuiltinTool>
  readonly maxTurns: number
  readonly skipPermissions: boolean
  readonly rules: CommandRules
  readonly sandbox: Sandbox
}

/**
 * --auto: the loop. On a terminal every answer streams to stdout as it comes; otherwise only the final answer goes
 * to stdout, and what the model said between its tool calls goes to stderr. Each call is one line on stderr.
 */
const agentTurn = (ctx: Context, agent: AgentSettings, prompt: string, label?: string) =>
  Effect.gen(function*() {
    const { t, format, conversation } = ctx
    const entry = conversation.model.entry
    const stdio = yield* Stdio.Stdio
    const redactor = yield* Redactor
    const out = (text: string) => Stream.run(Stream.succeed(text), stdio.stdout({ endOnDone: false })).pipe(Effect.ignore)
    const err = (text: string) => writeErr(text).pipe(Effect.provideService(Stdio.Stdio, stdio))
    const live = format === "text" && t.stdoutIsTty
    const result = yield* runAgent(conversation, prompt, {
      tools: agent.tools,
      context: { cwd: process.cwd(), level: agent.level, rules: agent.rules, sandbox: agent.sandbox },
      redact: redactor.redactDeep,
      maxTurns: agent.maxTurns,
      skipPermissions: agent.skipPermissions,
      // Piped: what the model said before its calls goes to stderr before them, as a terminal shows it.
      onTurn: (turn) => format === "text" && !live && turn.text.trim() !== "" ? note(t, turn.text.trim()) : Effect.void,
      onCall: (o) =>
        format === "stream-json"
          ? printJson({ type: "tool_result", id: o.call.id, name: o.call.name, is_error: o.isError, refused: o.refused, summary: o.summary, output: o.output }).pipe(Effect.ignore)
          : format === "text"
          ? err(callLine(o, t.color))
          : Effect.void,
      send: (step) => ({
        ...(step === 1 ? { label, images: ctx.images.current } : {}),
        maxOutputTokens: ctx.maxOutputTokens,
        reasoningEffort: ctx.reasoningEffort,
        onRetry: (info) => warn(t, explainRetry(info)).pipe(Effect.provideService(Stdio.Stdio, stdio)),
        onNotice: (text) => warn(t, text).pipe(Effect.provideService(Stdio.Stdio, stdio)),
        onCompact: (text) => compactionNote(t, format, text).pipe(Effect.provideService(Stdio.Stdio, stdio)),
        render: (events) =>
          Effect.flatMap(startSpinner(format === "text" && t.stderrIsTty, `${entry.displayName}…`, undefined, waitingFor(entry)), (stop) =>
            format === "text"
              ? live ? streamAnswer(events, stop, true) : Stream.runDrain(events).pipe(Effect.ensuring(stop))
              : format === "json"
              ? Stream.runDrain(events)
              : streamJsonLines(events, step === 1 ? initJson(conversation.id, entry) : undefined))
      })
    })
    ctx.images.current = []
    // Stopped while a tool ran (Ctrl-C, a signal): the requests so far are on record; byok exits as interrupted.
    if (result.end === "interrupted") return yield* Effect.interrupt
    const final = result.turns.at(-1)!
    for (const turn of result.turns) yield* storeWarnings(t, turn)
    // Piped: the final answer to stdout (what the model said between calls went to stderr as it came).
    if (format === "text" && !live) {
      if (final.text !== "" && result.end === "answered") yield* out(final.text.endsWith("\n") ? final.text : `${final.text}\n`)
      // (a last answer that asked for calls was said by onTurn; one that failed was not)
      else if (final.text !== "" && result.end !== "answered" && (final.toolCalls.length === 0 || final.failure !== undefined)) yield* note(t, final.text.trim())
    }
    // The work stopped at a permission: the last call was refused, and the model gave up.
    const lastCall = result.calls.at(-1)
    const stoppedByPermission = result.end === "answered" && lastCall?.refused === true
    const failure = final.failure
    if (format !== "text") {
      ctx.results.printed = true
      const report = failure !== undefined && final.outcome !== "interrupted" ? describeCause(failure) : undefined
      const error = report !== undefined
        ? { type: final.outcome, message: report.headline, code: report.code }
        : result.why !== undefined
        ? { type: result.end, message: result.why, code: ExitCode.other }
        : stoppedByPermission
        ? { type: "permission", message: `a tool call was refused: ${lastCall!.summary}`, code: ExitCode.permission }
        : undefined
      yield* printJson(agentResultJson(result, error, conversation.turns.filter((x) => x.role === "user").length)).pipe(Effect.ignore)
    }
    if (result.why !== undefined) yield* warn(t, result.why)
    if (failure !== undefined) return yield* Effect.failCause(failure)
    if (result.end !== "answered") return yield* new QuietExit({ code: ExitCode.other })
    if (stoppedByPermission) {
      const blocked = lastCall!.summary.startsWith("denied") || lastCall!.summary.startsWith("blocked")
      yield* warn(t, `the work stopped at a refused tool call (${lastCall!.call.name}: ${lastCall!.summary}); ${blocked ? "no level allows it" : "a higher --auto level allows it"}`)
      return yield* new QuietExit({ code: ExitCode.permission })
    }
  })

/**
 * What could not be recorded, said once per cause: when the ledger and the session store fail the same way (a
 * read-only data directory), one line says so for both.
 */
const storeWarnings = (t: Term, turn: TurnResult) => {
  if (turn.recorded === "nowhere") return warn(t, NOWHERE)
  const ledger = typeof turn.recorded === "string" ? undefined : turn.recorded
  const sessions = turn.saveError
  if (ledger !== undefined && sessions !== undefined && ledger.kind === sessions.kind) {
    return warn(t, explainStoreWarning(ledger, "nothing was recorded (cost ledger, conversation):"))
  }
  return Effect.all([
    ledger !== undefined ? warn(t, explainStoreWarning(ledger, "this request was not recorded in the cost ledger")) : Effect.void,
    sessions !== undefined ? warn(t, explainStoreWarning(sessions, "this conversation was not saved to")) : Effect.void
  ], { discard: true })
}

/** Rows a busy ledger made wait get the ordinary wait before exec ends; any still refused are said. */
const flushLedger = (t: Term, conversation: Conversation) =>
  conversation.flush.pipe(
    Effect.flatMap((left) =>
      left > 0 ? warn(t, `the cost ledger stayed locked; ${count(left, "request was", "requests were")} not recorded`) : Effect.void
    ),
    Effect.catch((error) => warn(t, explainStoreWarning(error, "this request was not recorded in the cost ledger")))
  )

/**
 * With -o json or stream-json, a failure before any result was printed (no prompt, an unknown model, a broken
 * config) still prints one result object, so that a script reading stdout always gets one.
 */
const resultOnFailure = (flags: ExecInput, printed: () => boolean) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  flags.output === "text" && flags.input !== "stream-json"
    ? effect
    : Effect.tapCause(effect, (cause) => {
      if (printed() || Cause.hasInterruptsOnly(cause)) return Effect.void
      const report = describeCause(cause)
      if (report.silent && report.code === 0) return Effect.void
      const ending = endingOf(cause)
      const tag = ending._tag === "Failed" ? (ending.error as { _tag?: unknown } | undefined)?._tag : undefined
      return printJson(failureResultJson(
        report.code,
        typeof tag === "string" ? tag : "Error",
        report.silent ? "invalid arguments" : report.headline
      )).pipe(Effect.ignore)
    })

/** --tools FILE: the definitions in it, or a usage error that names the file and what is wrong. */
const loadTools = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((error) => new UsageError({ detail: `--tools ${file}: ${error.reason._tag === "NotFound" ? "no such file" : error.message}` }))
    )
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      return yield* new UsageError({ detail: `--tools ${file} is not valid JSON: ${(error as Error).message}` })
    }
    const read = readTools(value)
    if (read.issues.length > 0) {
      return yield* new UsageError({
        detail: `--tools ${file}: ${read.issues.join("; ")}`,
        hint: "Each tool: {\"name\", \"description\", \"parameters\": {JSON Schema}} (OpenAI's {\"type\":\"function\",\"function\":{…}} and Anthropic's \"input_schema\" work too)."
      })
    }
    return read.tools
  })

/** -i FILE: each image read and recognised, or a usage error that names the file. */
const loadImages = (files: ReadonlyArray<string>) =>
  Effect.forEach(files, (file) =>
    Effect.gen(function*() {
      const bytes = yield* Effect.try({
        try: () => new Uint8Array(readFileSync(file)),
        catch: (error) =>
          new UsageError({
            detail: `--image ${file}: ${(error as { code?: string }).code === "ENOENT" ? "no such file" : "cannot be read"}`
          })
      })
      const image = imageFromBytes(bytes)
      if (typeof image === "string") return yield* new UsageError({ detail: `--image ${file}: ${image}` })
      return image
    }))

/** --tool-choice: auto, none, required, or the name of one of the tools. */
const toolChoiceOf = (choice: string | undefined, tools: ReadonlyArray<ToolDefinition>) =>
  Effect.gen(function*() {
    if (choice === undefined) return undefined
    if (tools.length === 0) return yield* new UsageError({ detail: "--tool-choice goes with --tools FILE", hint: "Give the tools the model may call with --tools FILE." })
    if (choice === "auto" || choice === "none" || choice === "required") return choice
    if (tools.some((t) => t.name === choice)) return { name: choice }
    const guess = closest(choice, tools.map((t) => t.name))
    return yield* new UsageError({
      detail: `--tool-choice ${choice}: no such tool${guess !== undefined ? `; did you mean ${guess}?` : ""}`,
      hint: `Use auto, none, required, or one of: ${tools.map((t) => t.name).join(", ")}.`
    })
  })

/** `byok exec`: one prompt (or one per stdin line), its answer streamed. */
export const runExec = (flags: ExecInput) => {
  const results = { printed: false }
  return Effect.gen(function*() {
    const t = yield* term
    const maxTokens = Option.getOrUndefined(flags.maxTokens)
    if (maxTokens !== undefined && maxTokens <= 0) {
      return yield* new UsageError({ detail: `--max-tokens must be a positive whole number, got ${maxTokens}` })
    }
    const lines = flags.input === "stream-json"
    let argument = flags.prompt.length > 0 ? flags.prompt.join(" ") : undefined
    // `byok exec /name ARGS`: a custom command's prompt, or its script's output, is the argument.
    const slash = argument !== undefined ? /^\/([^\s/]+)(?:\s+([\s\S]*))?$/.exec(argument.trim()) : null
    if (slash !== null) {
      const loaded = yield* (yield* ConfigService).load
      const custom = loadCustomCommands(loaded.commandDirs).find((c) => c.name === slash[1]!.toLowerCase())
      if (custom !== undefined) {
        const redactor = yield* Redactor
        const { env } = shellEnvironment(loaded, redactor)
        const result = yield* Effect.promise((signal) => commandMessage(custom, (slash[2] ?? "").trim(), process.cwd(), env, signal))
        if (!result.ok) return yield* new UsageError({ detail: `/${custom.name}: ${redactor.redact(result.reason)}` })
        if (result.cut) yield* warn(t, `/${custom.name} printed more than ${SCRIPT_OUTPUT_LIMIT / 1024} KiB; the rest was cut`)
        argument = custom.kind === "script" ? redactor.redact(result.text) : result.text
      }
    }
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

    const tools = Option.isSome(flags.tools) ? yield* loadTools(flags.tools.value) : []
    // --auto, else droid's autonomyMode: the model acts with byok's tools. Without either, exec is the plain
    // one-answer command: no tools, no extra tokens.
    const loaded = yield* (yield* ConfigService).load
    const level = Option.isSome(flags.auto) ? autonomyOf(flags.auto.value) : loaded.autonomy
    if (Option.isSome(flags.auto) && level === undefined) {
      return yield* new UsageError({ detail: `--auto must be one of off, low, medium, high, got "${flags.auto.value}"` })
    }
    if (level !== undefined && tools.length > 0) {
      return yield* new UsageError({
        detail: "--tools offers tools of your own, which byok does not run; --auto (or autonomyMode) gives the model byok's",
        hint: "Use one or the other."
      })
    }
    if (Option.isSome(flags.maxTurns) && level === undefined) {
      return yield* new UsageError({
        detail: "--max-turns limits the agent loop, and without --auto (or autonomyMode) exec runs none: one request, no tools",
        hint: "Add --auto off|low|medium|high to let the model act, or leave --max-turns out."
      })
    }
    const maxTurns = Option.getOrUndefined(flags.maxTurns) ?? DEFAULT_MAX_TURNS
    if (maxTurns < 1) return yield* new UsageError({ detail: `--max-turns must be a whole number of 1 or more, got ${maxTurns}` })
    // The MCP servers' tools join byok's; a server whose list is cached starts only when one of its tools is called.
    const errStdio = yield* Stdio.Stdio
    // (Loaded only here: an exec without tools, or with no mcp.json, never evaluates the MCP modules.)
    if (flags.resources.length > 0 && loaded.mcpFiles.length === 0) {
      return yield* new UsageError({ detail: "--resource names an MCP server's resource, and no mcp.json configures any server" })
    }
    if (flags.resources.length > 0 && prompt === undefined) {
      return yield* new UsageError({ detail: "--resource goes with one prompt, not with --input-format stream-json" })
    }
    const mcp = (level === undefined && flags.resources.length === 0) || loaded.mcpFiles.length === 0
      ? undefined
      : yield* Effect.promise(() => import("../mcp/open.ts"))
    const hub: McpHub | undefined = mcp === undefined
      ? undefined
      : yield* Effect.acquireRelease(mcp.openHub(loaded, (text) => warn(t, text).pipe(Effect.provideService(Stdio.Stdio, errStdio)), {
        // exec asks no one: a server's question is declined, or answered with its form's defaults when asked to.
        declare: flags.mcpAcceptDefaults,
        answer: (form) => {
          const say = (text: string) => warn(t, text).pipe(Effect.provideService(Stdio.Stdio, errStdio))
          const asked = `MCP server "${form.server}" asked: ${stripControls(form.message).replace(/\s+/g, " ").slice(0, 200)}`
          if (!flags.mcpAcceptDefaults) return Effect.as(say(`${asked}; declined (byok exec asks no questions; --mcp-accept-defaults answers with the form's defaults)`), { action: "decline" as const })
          const { content, missing } = mcp!.withDefaults(form)
          if (missing.length > 0) return Effect.as(say(`${asked}; declined: ${missing.map((m) => stripControls(m).slice(0, 40)).join(", ")} has no default`), { action: "decline" as const })
          return Effect.as(say(`${asked}; answered with the form's defaults`), { action: "accept" as const, content })
        }
      }), (h) => h.close)
    // --resource SERVER:URI: each read (its server started) and put before the prompt as context.
    let attached = ""
    for (const given of flags.resources) {
      const at = given.indexOf(":")
      if (at <= 0 || at === given.length - 1) return yield* new UsageError({ detail: `--resource takes SERVER:URI (e.g. files:file:///notes/todo.md), got "${given}"` })
      const [server, uri] = [given.slice(0, at), given.slice(at + 1)]
      const text = yield* hub!.readResource(server, uri).pipe(
        Effect.mapError((why) => new UsageError({ detail: `--resource ${given}: ${why}` }))
      )
      attached += `The resource ${uri} of the MCP server "${server}":\n${text}\n\n`
    }
    // Servers with no cached tool list are started and listed before the first request (a spinner meanwhile).
    if (level !== undefined && hub !== undefined && hub.states.some((s) => !s.server.disabled && s.tools === undefined)) {
      const stop = yield* startSpinner(flags.output === "text" && t.stderrIsTty, "starting MCP servers…")
      yield* hub.prepare().pipe(Effect.ensuring(stop))
    }
    // Commands run in the level's sandbox; where there is none (or it is off), that is said once.
    const sandbox = level === undefined ? undefined : yield* openSandbox(loaded, yield* Redactor)
    const unsandboxed = level === undefined || flags.skipPermissionsUnsafe ? undefined : sandbox?.notice(level)
    if (unsandboxed !== undefined) yield* warn(t, unsandboxed)
    const agent: AgentSettings | undefined = level === undefined || sandbox === undefined ? undefined : {
      level,
      tools: () => [...toolsFor(level), ...(mcp?.mcpToolsFor(hub, level) ?? [])],
      maxTurns,
      skipPermissions: flags.skipPermissionsUnsafe,
      rules: loaded.commands,
      sandbox
    }
    const toolChoice = yield* toolChoiceOf(Option.getOrUndefined(flags.toolChoice), tools)
    const reasoningEffort = yield* reasoningEffortSetting(flags.reasoningEffort)
    const images = yield* loadImages(flags.images)
    const { conversation, warnings } = yield* openConversation({
      model: Option.getOrUndefined(flags.model),
      fallbackModels: flags.fallbackModels,
      session: Option.getOrUndefined(flags.session),
      continue: flags.continue,
      system: agent === undefined
        ? Option.getOrUndefined(flags.system)
        : agentSystemPrompt({
          cwd: process.cwd(),
          tools: agent.tools().map((t) => t.definition.name),
          level: agent.level,
          home: process.env["HOME"],
          user: Option.getOrUndefined(flags.system),
          now: new Date()
        }),
      maxRetries: yield* maxRetriesSetting(Option.getOrUndefined(flags.maxRetries)),
      timeout: yield* timeoutSetting(flags.timeout)
    })
    for (const w of warnings) yield* warn(t, w)
    // An image the model cannot take (noImageSupport, the API's limits) is refused before anything is sent.
    const refused = conversation.imagesRefused(images)
    if (refused !== undefined) return yield* new UsageError({ detail: refused })
    const ctx: Context = {
      results,
      t,
      tools,
      toolChoice,
      reasoningEffort,
      images: { current: images },
      agent,
      // Results, one per message, are what a stream of messages gets back.
      format: lines && flags.output === "text" ? "json" : flags.output,
      maxOutputTokens: maxTokens,
      conversation
    }
    if (prompt !== undefined) {
      return yield* execTurn(ctx, `${attached}${prompt}`, argument).pipe(Effect.ensuring(flushLedger(t, conversation)))
    }

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
            results.printed = true
            yield* printJson({
              type: "result",
              subtype: "error",
              is_error: true,
              session_id: conversation.id,
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
      Effect.catchTag("PlatformError", () => Effect.void),
      Effect.ensuring(flushLedger(t, conversation))
    )
    if (failure !== 0) return yield* new QuietExit({ code: failure })
  }).pipe(Effect.scoped, withConfig(flags.config, "exec", { offline: flags.offline }), resultOnFailure(flags, () => results.printed))
}
