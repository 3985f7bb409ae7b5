// `byok` / `byok chat`: the interactive conversation. Reads lines with the chat's editor on a terminal (or plain
// lines from a pipe), streams answers, handles slash commands, and saves the conversation after every answer.
// Ctrl-C stops an answer (the partial text stays, the ledger says "interrupted") and returns to the prompt.
// Model output goes to the terminal and the session store only; the ledger never holds the chat up.
import { monotonicMillis } from "../lib/clock.ts"
import { Deferred, Duration, Effect, Exit, Fiber, Option, Queue, Result, Stdio, Stream } from "effect"
import { COMMANDS, completeCommand, helpText, parseInput } from "../chat/commands.ts"
import { askToTrust } from "./trust.ts"
import { commandMessage, type CustomCommand, loadCustomCommands, SCRIPT_OUTPUT_LIMIT } from "../chat/custom.ts"
import { LineEditor, renderFrame } from "../chat/editor.ts"
import { appendHistory, loadHistory } from "../chat/history.ts"
import type { Key } from "../chat/keys.ts"
import { SessionStore } from "../chat/sessions.ts"
import { colours, markdownStream, plain } from "../chat/markdown.ts"
import { openTty, type Tty } from "../chat/tty.ts"
import { wordWrap } from "../chat/wrap.ts"
import { autonomyOf, ConfigService, type LoadedConfig, usableEntries } from "../config/config.ts"
import { REASONING_EFFORTS, reasoningEffortOf, type ModelEntry } from "../config/schema.ts"
import { open as openConversation, type TurnResult } from "../conversation/conversation.ts"
import { runAgent } from "../conversation/agent.ts"
import { agentSystemPrompt } from "../conversation/context.ts"
import { UsageError } from "../config/errors.ts"
import type { RetryInfo } from "../providers/conversation.ts"
import { toolsFor } from "../tools/registry.ts"
import { type Autonomy, levelFor } from "../sandbox/levels.ts"
import { callLine, replayLines } from "./calls.ts"
import { explainRetry } from "../explain/provider.ts"
import { explainStoreWarning, NOWHERE } from "../explain/store.ts"
import type { Totals } from "../ledger/ledger.ts"
import { controlStripper, stripControls } from "../lib/controls.ts"
import type { ImagePart } from "../providers/conversation.ts"
import { imageFromBytes } from "../providers/images.ts"
import { readFileSync } from "node:fs"
import { Redactor } from "../lib/redact.ts"
import { openSandbox, shellEnvironment } from "../conversation/sandbox.ts"
import { describe as describeSandbox } from "../sandbox/sandbox.ts"
import { dataPlace } from "../lib/sqlite.ts"
import type { LlmEvent } from "../providers/event.ts"
import { minimumCacheablePrompt } from "../providers/registry.ts"
import { VERSION } from "../version.ts"
import type { ChatInput } from "./inputs.ts"
import { costCell, formatTokens, hitRateCell, savingsCell } from "./cost.ts"
import { describeCause, formatReport } from "./exit.ts"
import { maxRetriesSetting, reasoningEffortSetting, timeoutSetting, withConfig } from "./services.ts"
import { answerText, contextLine, finishNote, isoMinute, loopLine, turnLine, WINDOW_SOURCES } from "./render.ts"
import { startSpinner, term, waitingFor, writeErr } from "./term.ts"

/** The most requests of one loop in the chat (the model acting, with /auto). */
const CHAT_MAX_TURNS = 50

/** A pause this long in an answer shows the last word of its line, even one that could still become a link. */
const FLUSH_AFTER_MS = 400
/** A pause this long in an answer that has begun shows "waiting · Ns" beside it. */
const STALLED_AFTER_MS = 3000

interface Style {
  readonly dim: (s: string) => string
  readonly bold: (s: string) => string
  readonly accent: (s: string) => string
}

/** The chat's own lines, in the answers' colours: the prompt and marks in the colour of inline code; none without. */
const styles = (color: boolean): Style => {
  const none = (s: string) => s
  return color ? { dim: colours.dim, bold: colours.bold, accent: colours.code } : { dim: none, bold: none, accent: none }
}

/** Two lines for /cost: requests, cost, hit rate and savings; then the tokens by class. */
const totalsLines = (label: string, t: Totals, style: Style) => {
  if (t.requests === 0) return `${label}: no requests yet`
  // Figures that rest on byok's estimates (answers cut off before the server's count) are marked ~.
  const approx = t.estimated > 0 ? "~" : ""
  return [
    `${label}: ${t.requests} request${t.requests === 1 ? "" : "s"} · ${style.bold(`${costCell(t) === "local" ? "" : approx}${costCell(t)}`)}` +
    ` · cache hit rate ${hitRateCell(t)}` +
    (savingsCell(t) !== undefined ? ` · caching saved ${savingsCell(t)}` : ""),
    `  input ${approx}${formatTokens(t.inputUncached)} · cache read ${formatTokens(t.cacheRead)}` +
    ` · cache write ${formatTokens(t.cacheWrite)} · output ${approx}${formatTokens(t.outputTokens)}` +
    (t.reasoningTokens > 0 ? ` (${formatTokens(t.reasoningTokens)} reasoning)` : "") +
    (t.estimated > 0 ? `\n  ~ ${t.estimated} of them byok's estimate: the answer was cut off before the server's count` : "")
  ].join("\n")
}

/** The models in `byok models` order, numbered as `/model N` takes them, in aligned columns. */
const modelList = (loaded: LoadedConfig, current: ModelEntry, style: Style) => {
  const usable = usableEntries(loaded)
  const rows = usable.map((e, i) => [`${String(i + 1).padStart(2)}.`, e.displayName, e.provider, e.model, e.endpoint.host])
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r, i) => {
    const mark = usable[i] === current ? style.accent("*") : " "
    const [n, name, provider, model, host] = r as [string, string, string, string, string]
    return `${mark} ${n.padStart(widths[0]!)} ${name.padEnd(widths[1]!)}  ${style.dim(`${provider.padEnd(widths[2]!)}  ${model.padEnd(widths[3]!)}  ${host}`)}`
  }).join("\n")
}

export const runChat = (flags: ChatInput) =>
  // A project's own files are asked about first (once per project, at a terminal): the settings read after it.
  Effect.andThen(askToTrust(Option.isSome(flags.config)), chatWith(flags))

const chatWith = (flags: ChatInput) =>
  Effect.scoped(Effect.gen(function*() {
    const t = yield* term
    const stdio = yield* Stdio.Stdio
    const interactive = (yield* stdio.stdinIsTerminal) && t.stdoutIsTty
    const color = t.stdoutIsTty && t.color
    const style = styles(color)
    const config = yield* ConfigService
    const sessions = yield* SessionStore
    // The terminal is written directly, not through Stdio: its text passes the redactor here.
    const redactor = yield* Redactor

    // --auto, else droid's autonomyMode: the model acts with byok's tools (and is told so in its system prompt).
    const settings = yield* config.load
    const autoFlagged = Option.getOrUndefined(flags.auto)
    let level: Autonomy | undefined = autoFlagged !== undefined ? autonomyOf(autoFlagged) : settings.autonomy
    if (autoFlagged !== undefined && level === undefined) {
      return yield* new UsageError({ detail: `--auto must be one of off, low, medium, high, got "${autoFlagged}"` })
    }
    const { conversation, resumed, warnings } = yield* openConversation({
      model: Option.getOrUndefined(flags.model),
      fallbackModels: flags.fallbackModels,
      session: Option.getOrUndefined(flags.session),
      continue: flags.continue,
      system: level === undefined
        ? Option.getOrUndefined(flags.system)
        : agentSystemPrompt({
          cwd: process.cwd(),
          tools: toolsFor(level).map((x) => x.definition.name),
          level,
          home: process.env["HOME"],
          user: Option.getOrUndefined(flags.system),
          now: new Date()
        }),
      maxRetries: yield* maxRetriesSetting(),
      timeout: yield* timeoutSetting(flags.timeout)
    })
    const loaded = yield* config.load
    /** The last prompt's size in tokens, for /cost's "caching did not engage" line. */
    let lastInputTokens: number | undefined
    /** The line after each answer (/stats): on at a terminal. */
    let stats = interactive
    /** /max-tokens: the output cap for this chat, over the entry's. */
    let maxTokens: number | undefined
    /** Calls the user said to always run, this session (tool and subject). */
    const always = new Set<string>()
    /** The running MCP call's last progress (`3/10 copying`), shown after its seconds. */
    let progress: string | undefined
    /** An approval being asked: the next key answers it (the key watcher hands it over). */
    let asking: Deferred.Deferred<string> | undefined
    /** /image: images that go with the next message. */
    let images: Array<ImagePart> = []
    /** -r and /effort: how hard the model thinks, for this chat, over the model's own setting. */
    let effort = yield* reasoningEffortSetting(flags.reasoningEffort)
    /** The call running now (its name and subject), for saying which one Ctrl-C stopped. */
    let running: string | undefined
    /** Whether anything was saved, for the hint on leaving. */
    let saved = false

    // ---- output ----------------------------------------------------------------------------------------------
    const tty: Tty | undefined = interactive ? yield* openTty : undefined
    const out = (s: string): Effect.Effect<void> =>
      tty !== undefined
        ? Effect.sync(() => tty.write(redactor.redact(s)))
        : Stream.run(Stream.succeed(s), stdio.stdout({ endOnDone: false })).pipe(Effect.ignore)
    const say = (s: string) => out(`${s}\n`)
    // What is not an answer or a command's reply (the banner, warnings, notes, errors, hints) goes to stderr when
    // stdout is not the chat's terminal, as exec does: a pipe gets the answers only.
    const info = (s: string): Effect.Effect<void> =>
      tty !== undefined ? out(s) : writeErr(redactor.redact(s)).pipe(Effect.provideService(Stdio.Stdio, stdio))
    const tell = (s: string) => info(`${s}\n`)
    const warnOnce = new Set<string>()
    const warn = (s: string) =>
      warnOnce.has(s)
        ? Effect.void
        : Effect.sync(() => warnOnce.add(s)).pipe(Effect.andThen(tell(style.dim(`warning: ${stripControls(s)}`))))

    for (const w of warnings) yield* warn(w)
    // MCP servers: read now (their cached lists); started when the model first acts, or by /mcp.
    // (The MCP modules are loaded only when there is an mcp.json.)
    const mcp = loaded.mcpFiles.length > 0 ? yield* Effect.promise(() => import("../mcp/open.ts")) : undefined
    // A server's question during a call (elicitation): at a terminal, shown with its defaults and answered by a key,
    // as an approval is; elsewhere declined (the hub says so).
    /** The next key while something is asked: a character, or \0 and a key's name. */
    const nextKey = Effect.gen(function*() {
      const answer = yield* Deferred.make<string>()
      asking = answer
      const key = yield* Deferred.await(answer)
      asking = undefined
      return key
    })
    /** One line typed for a form's field (Enter ends it, Backspace takes back; Ctrl-C or Esc: undefined). */
    const typedLine = Effect.gen(function*() {
      let typed = ""
      for (;;) {
        const key = yield* nextKey
        if (key === "\u0000enter") return typed
        if (key === "\u0000ctrl-c" || key === "\u0000escape") return undefined
        if (key === "\u0000backspace") {
          if (typed !== "") {
            typed = [...typed].slice(0, -1).join("")
            yield* out("\b \b")
          }
        } else if (!key.startsWith("\u0000")) {
          const text = stripControls(key).replace(/\n/g, " ")
          typed += text
          yield* out(text)
        }
      }
    })
    const elicit = mcp === undefined || tty === undefined ? undefined : {
      declare: true,
      urls: true,
      answer: (form: Parameters<typeof mcp.withDefaults>[0]) =>
        Effect.gen(function*() {
          const { content, missing } = mcp.withDefaults(form)
          yield* out("\r\x1b[2K")
          for (const line of mcp.formLines(form)) yield* out(`${line}\n`)
          // URL mode: the page is opened only with the person's leave (it is the server's choice of address).
          if (form.url !== undefined) {
            yield* out(`${style.accent("?")} ${style.bold("o")}pen it, ${style.bold("d")}ecline, ${style.bold("c")}ancel: `)
            const key = (yield* nextKey).toLowerCase()
            if (key === "o") {
              const { openBrowser } = yield* Effect.promise(() => import("../mcp/oauth.ts"))
              const refused = openBrowser(form.url, () => {})
              if (refused !== undefined) {
                yield* out(`decline (${refused})\n`)
                return { action: "decline" as const }
              }
              yield* out("open\n")
              return { action: "accept" as const }
            }
            const action = key === "c" || key === "\u0000ctrl-c" ? "cancel" as const : "decline" as const
            yield* out(`${action}\n`)
            return { action }
          }
          yield* out(
            missing.length > 0
              ? `${style.accent("?")} It needs ${missing.map((m) => stripControls(m).slice(0, 40)).join(", ")}: ${style.bold("e")}dit, ${style.bold("d")}ecline, ${style.bold("c")}ancel: `
              : `${style.accent("?")} ${style.bold("a")}ccept these, ${style.bold("e")}dit, ${style.bold("d")}ecline, ${style.bold("c")}ancel: `
          )
          const said = (yield* nextKey).toLowerCase()
          if (said === "e") {
            yield* out("edit (Enter keeps a default; Esc cancels)\n")
            const values: Record<string, unknown> = {}
            for (const field of form.fields) {
              for (;;) {
                const kind = field.options !== undefined ? field.options.join("|") : field.type === "boolean" ? "y/n" : field.type
                const shown = field.default !== undefined ? ` [${String(field.default)}]` : field.required ? "" : " [leave out]"
                yield* out(stripControls(`  ${(field.title ?? field.name).slice(0, 60)} (${kind.slice(0, 60)})${shown}: `))
                const line = yield* typedLine
                yield* out("\n")
                if (line === undefined) return { action: "cancel" as const }
                const answer = mcp.fieldValue(field, line)
                if ("problem" in answer) {
                  // (the problem names the server's choices: its text, so stripped)
                  yield* out(`  ${stripControls(answer.problem)}\n`)
                  continue
                }
                if (answer.value !== undefined) values[field.name] = answer.value
                break
              }
            }
            yield* out("accept\n")
            return { action: "accept" as const, content: values }
          }
          const action = said === "a" && missing.length === 0 ? "accept" as const : said === "c" || said === "\u0000ctrl-c" ? "cancel" as const : "decline" as const
          yield* out(`${action}\n`)
          return action === "accept" ? { action, content } : { action }
        })
    }
    const hub = mcp !== undefined
      ? yield* Effect.acquireRelease(
        mcp.openHub(loaded, warn, elicit, (_server, text) => {
          progress = stripControls(text).replace(/\s+/g, " ").slice(0, 30)
        }),
        (h) => h.close
      )
      : undefined
    // The sandbox commands run in: made when the model first acts (or by /sandbox).
    const sandbox = yield* Effect.cached(openSandbox(loaded, redactor))
    yield* tell(style.dim(
      `byok ${VERSION} · ${conversation.model.entry.displayName} (${conversation.model.entry.provider}) · /help for commands · Ctrl-D to leave`
    ))
    if (resumed !== undefined) {
      // The last exchanges, drawn as the live chat drew them: the messages, and each call the model made as its line.
      const messages = resumed.messages
      const from = Math.max(0, messages.length - 6)
      const shown = messages.slice(from)
      yield* tell(style.dim(
        `Resumed conversation ${resumed.id.slice(0, 8)} (${messages.length} messages)` + (from > 0 ? "; the last few:" : ":")
      ))
      for (const line of replayLines(shown, tty !== undefined ? color : t.color, (text) => `${style.accent("›")} ${text}`, (i) => shown[i]!.interrupted)) {
        yield* tell(line)
      }
      yield* tell("")
    }

    // ---- input ------------------------------------------------------------------------------------------------
    const place = yield* dataPlace
    // Input history is kept between runs where byok records; otherwise for this run only.
    const historyPath = place._tag === "Directory" ? `${place.path}/history.jsonl` : undefined
    const custom = loadCustomCommands(loaded.commandDirs)
    // A server's prompts are chat commands, /mcp__SERVER__PROMPT (known once the server has been listed).
    const promptCommands = () =>
      (hub?.states ?? []).filter((st) => !st.server.disabled).flatMap((st) =>
        (st.prompts ?? []).map((p) => ({ name: `mcp__${st.server.slug}__${p.name}`, server: st.server.name, prompt: p }))
      )
    const promptEntries = (): ReadonlyArray<CustomCommand> =>
      promptCommands().map((c) => ({ name: c.name.toLowerCase(), file: "", kind: "prompt", description: "", argumentHint: "", scope: "personal" }))
    const editor = new LineEditor(historyPath !== undefined ? yield* loadHistory(historyPath) : [], (b) => completeCommand(b, [...custom, ...promptEntries()]))
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
            if (action.text.trim() !== "" && historyPath !== undefined) yield* appendHistory(historyPath, action.text)
            return action.text
          case "exit":
            draw(editor.buffer.length)
            tty!.write("\r\n")
            return undefined
        }
      }
    })

    // ---- one answer -------------------------------------------------------------------------------------------
    // On a terminal the answer is rendered as Markdown, a line at a time as it streams; piped, it is left as it came.
    // On a terminal it is word-wrapped at the terminal's width; once it has begun, a pause of a moment shows the
    // last word of the line, and one of STALLED_AFTER_MS or more a dim "waiting · Ns" beside it, gone when text
    // resumes.
    const renderAnswer = (events: Stream.Stream<LlmEvent, unknown>) =>
      Effect.flatMap(startSpinner(interactive, style.dim("thinking…"), out, style.dim(waitingFor(conversation.model.entry))), (stopSpinner) => {
        const markdown = interactive ? markdownStream(color ? colours : plain) : undefined
        const wrap = tty !== undefined ? wordWrap(tty.columns) : undefined
        const show = (text: string) => (text === "" ? Effect.void : out(wrap !== undefined ? wrap.push(text) : text))
        let lastAt = 0
        let flushed = true
        let status = ""
        const clearStatus = Effect.suspend(() => {
          if (status === "") return Effect.void
          status = ""
          return out("\x1b[K")
        })
        const pauses = Effect.gen(function*() {
          for (;;) {
            yield* Effect.sleep(Duration.millis(200))
            if (lastAt === 0) continue
            const idle = (yield* monotonicMillis) - lastAt
            if (!flushed && idle >= FLUSH_AFTER_MS) {
              flushed = true
              yield* show(markdown?.flush() ?? "")
            }
            if (idle >= STALLED_AFTER_MS && wrap !== undefined) {
              const words = ` waiting · ${Math.floor(idle / 1000)}s`
              if (words !== status && wrap.room() > words.length) {
                status = words
                // Saved and restored cursor: the status sits beside the text without moving where it goes on.
                yield* out(`\x1b7\x1b[K${style.dim(words)}\x1b8`)
              }
            }
          }
        })
        // Reasoning, on a terminal, is shown dimmed as it comes, before the answer, which starts below it.
        const thinking = controlStripper()
        let reasoned = false
        let answering = false
        const withReasoning = interactive
          ? events.pipe(Stream.mapArrayEffect((batch) =>
            Effect.gen(function*() {
              for (const event of batch) {
                if (event._tag === "ReasoningDelta" && !answering) {
                  if (!reasoned) yield* stopSpinner
                  reasoned = true
                  lastAt = yield* monotonicMillis
                  yield* show(style.dim(thinking.push(event.text)))
                } else if (event._tag === "TextDelta" && !answering) {
                  answering = true
                  if (reasoned) yield* show("\n\n")
                }
              }
              return batch
            })
          ))
          : events
        return Effect.gen(function*() {
          const watcher = interactive ? yield* Effect.forkChild(pauses) : undefined
          yield* Stream.runForEach(answerText(withReasoning, stopSpinner, t.stdoutIsTty), (text) =>
            Effect.gen(function*() {
              lastAt = yield* monotonicMillis
              flushed = false
              yield* clearStatus
              yield* show(markdown?.push(text) ?? text)
            })).pipe(
              Effect.ensuring(watcher !== undefined ? Fiber.interrupt(watcher) : Effect.void),
              Effect.ensuring(clearStatus),
              // Stopped mid-line: the line being written is shown as far as it came.
              Effect.ensuring(markdown !== undefined ? Effect.suspend(() => show(markdown.end())) : Effect.void),
              Effect.ensuring(stopSpinner)
            )
        })
      })

    const send = (text: string) =>
      Effect.gen(function*() {
        const entry = conversation.model.entry
        // Images attached for another model (before /model) may not suit this one: said, and nothing is sent.
        const refused = conversation.imagesRefused(images)
        if (refused !== undefined) {
          yield* say(`Not sent: ${refused}. /image lists what is attached; /clear drops it.`)
          return
        }
        // The turn and what is shown of its end run to completion; Ctrl-C stops only the answer's stream (or a tool).
        const fiber = yield* Effect.forkChild(Effect.uninterruptible(Effect.gen(function*() {
          const options = {
            render: renderAnswer,
            maxOutputTokens: maxTokens,
            reasoningEffort: effort,
            onRetry: (retry: RetryInfo) => info(`${tty !== undefined ? "\r\x1b[K" : ""}${style.dim(stripControls(explainRetry(retry)))}\n`),
            onNotice: (text: string) => info(`${tty !== undefined ? "\r\x1b[K" : ""}${style.dim(`warning: ${stripControls(text)}`)}\n`),
            onCompact: (text: string) => info(`${tty !== undefined ? "\r\x1b[K" : ""}${style.dim(stripControls(text))}\n`)
          }
          let loop: ReadonlyArray<TurnResult> = []
          let turn: TurnResult
          if (level === undefined) {
            turn = yield* conversation.send(text, { ...options, images })
          } else {
            const agentLevel = level
            const box = yield* sandbox
            const unsandboxed = box.notice(agentLevel)
            if (unsandboxed !== undefined) yield* warn(unsandboxed)
            // Starting servers that have no cached list can take a while: Ctrl-C stops it, as it stops a tool, and
            // nothing is sent.
            if (hub !== undefined && Exit.isFailure(yield* Effect.exit(Effect.interruptible(hub.prepare())))) {
              yield* tell(style.dim("[stopped while MCP servers started; nothing was sent; press ↑ to resend]"))
              yield* tell("")
              return
            }
            const result = yield* runAgent(conversation, text, {
              tools: () => [...toolsFor(agentLevel), ...(mcp?.mcpToolsFor(hub, agentLevel) ?? [])],
              context: { cwd: process.cwd(), level: agentLevel, rules: settings.commands, sandbox: box },
              redact: redactor.redactDeep,
              maxTurns: CHAT_MAX_TURNS,
              send: (step) => ({ ...options, ...(step === 1 ? { images } : {}) }),
              onCall: (o) => info(callLine(o, tty !== undefined ? color : t.color)),
              // A running call's line, with the seconds it has run, until it ends (its own line replaces it).
              onRunning: (name, subject) => {
                running = `${name} ${stripControls(subject).replace(/\n/g, " ").slice(0, 80)}`.trim()
                progress = undefined
                // (quiet while a question is asked: the spinner would draw over it; a server's progress after the seconds)
                return startSpinner(
                  tty !== undefined,
                  style.dim(`${running} ·`),
                  (s) => (asking !== undefined ? Effect.void : out(progress !== undefined && s !== "\r\x1b[K" ? `${s}${style.dim(` · ${progress}`)}` : s))
                )
              },
              approve: tty !== undefined
                ? (request) =>
                  Effect.gen(function*() {
                    const key = `${request.tool}\u0000${request.subject}`
                    if (always.has(key)) return "yes" as const
                    const answer = yield* Deferred.make<string>()
                    asking = answer
                    yield* out(
                      `${style.accent("?")} ${request.tool} ${stripControls(request.subject).replace(/\n/g, " ").slice(0, 160)} needs ` +
                        `level ${levelFor(request.risk) ?? "never"} (${request.why}); the level is ${agentLevel}. ` +
                        `Run it? ${style.bold("y")}es, ${style.bold("n")}o, ${style.bold("a")}lways this session: `
                    )
                    const said = (yield* Deferred.await(answer)).toLowerCase()
                    asking = undefined
                    yield* out(`${said === "y" ? "yes" : said === "a" ? "always" : "no"}\n`)
                    if (said === "a") always.add(key)
                    return said === "y" ? "yes" as const : said === "a" ? "always" as const : "no" as const
                  })
                : undefined
            })
            turn = result.turns.at(-1)!
            loop = result.turns
            const stoppedCall = running
            running = undefined
            if (result.end === "interrupted") {
              // Ctrl-C while a tool ran: the tool (and its process group) is stopped; what was done stays.
              images = []
              saved = saved || (turn.recorded !== "nowhere" && turn.recorded !== "off")
              yield* tell(style.dim(`[stopped ${stoppedCall ?? result.stopped?.name ?? "a tool"}: the conversation keeps what was done, and the model will hear it was stopped; your next message goes on from there]`))
              yield* tell("")
              return
            }
            if (result.why !== undefined) yield* warn(result.why)
          }
          // Sent: the images went with this message (kept in the conversation when it joined it).
          if (turn.failure === undefined || turn.outcome === "interrupted") images = []
          if (turn.recorded === "deferred") {
            yield* warn("the cost ledger is busy; this answer is recorded as soon as it is free")
          } else if (turn.recorded === "nowhere") {
            yield* warn(NOWHERE)
          } else if (typeof turn.recorded !== "string") {
            yield* warn(explainStoreWarning(turn.recorded, "answers are not being recorded in the cost ledger"))
          }
          if (turn.saveError !== undefined) {
            yield* warn(explainStoreWarning(turn.saveError, "this conversation is not being saved to"))
          }
          // Nothing is saved where nothing is recorded (no HOME, BYOK_NO_RECORD): then there is nothing to resume.
          if (turn.saveError === undefined && turn.text !== "" && turn.recorded !== "nowhere" && turn.recorded !== "off") {
            saved = true
          }
          if (turn.failure === undefined) {
            lastInputTokens = turn.usage?.input.total ?? 0
            const note = finishNote(turn.finish, entry, maxTokens ?? entry.maxOutputTokens, "/max-tokens N")
            if (note !== undefined) yield* tell(style.dim(note))
            if (stats) yield* tell(style.dim(`${loop.length > 1 ? loopLine(loop) : turnLine(turn)} · ${contextLine(conversation.context())}`))
          } else if (turn.outcome === "interrupted") {
            if (turn.text !== "") {
              if (!turn.text.endsWith("\n")) yield* out("\n")
              yield* tell(style.dim("[stopped: the partial answer is kept]"))
            } else {
              yield* tell(style.dim("[stopped before any answer; press ↑ to edit and resend]"))
            }
          } else {
            // Output stopped mid-line: the error begins on a line of its own.
            if (turn.text !== "" && !turn.text.endsWith("\n") && tty !== undefined) yield* out("\n")
            yield* info(formatReport(describeCause(turn.failure, t.debug), tty !== undefined ? color : t.color))
            yield* tell(style.dim(
              tty !== undefined
                ? "Your message was not sent into the conversation; press ↑ to edit and resend."
                : "That message was not added to the conversation."
            ))
          }
          yield* tell("")
        })))
        // While the answer streams, Ctrl-C stops it; anything else typed is kept for the next prompt.
        // While a tool call waits for approval, the next key answers it (Enter alone is no).
        const watcher = tty === undefined ? undefined : yield* Effect.forkChild(Effect.forever(
          Effect.flatMap(Queue.take(tty.keys), (key) => {
            if (key.name === "ctrl-c") {
              if (asking !== undefined) return Deferred.succeed(asking, "\u0000ctrl-c").pipe(Effect.andThen(Fiber.interrupt(fiber)))
              return Fiber.interrupt(fiber)
            }
            // (a key that is not a character comes as \0 and its name: an approval takes it as no, a form's field reads it)
            if (asking !== undefined) {
              return Deferred.succeed(asking, key.name === "char" || key.name === "paste" ? key.text : `\u0000${key.name}`).pipe(Effect.asVoid)
            }
            return Effect.sync(() => void typedAhead.push(key))
          })
        ))
        yield* Fiber.await(fiber)
        if (watcher !== undefined) yield* Fiber.interrupt(watcher)
      })

    // ---- commands ---------------------------------------------------------------------------------------------
    const command = (name: string, arg: string): Effect.Effect<"continue" | "exit"> =>
      Effect.gen(function*() {
        switch (name) {
          case "help":
            yield* say(helpText(custom))
            const prompts = promptCommands()
            if (prompts.length > 0) {
              yield* say("MCP prompts (their text becomes your message):")
              for (const c of prompts) {
                const args = c.prompt.arguments.map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`)).join(" ")
                yield* say(stripControls(`  /${`${c.name} ${args}`.trim()}  ${(c.prompt.description ?? "").split("\n")[0]!.slice(0, 70)}`))
              }
            }
            break
          case "exit":
            return "exit"
          case "clear":
            conversation.clear()
            images = []
            lastInputTokens = undefined
            yield* say(style.dim("Started a new conversation."))
            break
          case "stats":
            // A word other than on or off changes nothing.
            if (arg !== "" && arg !== "on" && arg !== "off") {
              yield* say("Use /stats on or /stats off.")
              break
            }
            stats = arg === "" ? !stats : arg === "on"
            yield* say(style.dim(`The line after each answer is ${stats ? "on" : "off"}.`))
            break
          case "max-tokens": {
            const entry = conversation.model.entry
            if (arg === "") {
              yield* say(`Answers may take ${maxTokens ?? entry.maxOutputTokens} tokens` +
                (maxTokens === undefined ? ` (the entry's own cap; /max-tokens N changes it for this chat)` : " (set for this chat)"))
              break
            }
            const n = /^\d+$/.test(arg) ? Number(arg) : NaN
            if (!(n > 0)) {
              yield* say("Use /max-tokens N, with N a whole number above 0.")
              break
            }
            maxTokens = n
            yield* say(style.dim(`Answers may now take ${n} tokens, for this chat.`))
            break
          }
          case "image": {
            if (arg === "") {
              yield* say(images.length === 0 ? "Use /image PATH to attach an image to your next message." : `${images.length} image(s) will go with your next message.`)
              break
            }
            const path = arg.replace(/^["']|["']$/g, "").replace(/^~(?=\/)/, process.env["HOME"] ?? "~")
            let read: ImagePart | string
            try {
              read = imageFromBytes(new Uint8Array(readFileSync(path)))
            } catch (error) {
              read = (error as { code?: string }).code === "ENOENT" ? "no such file" : "it cannot be read"
            }
            if (typeof read === "string") {
              yield* say(`Cannot attach ${path}: ${read}.`)
              break
            }
            const refused = conversation.imagesRefused([...images, read])
            if (refused !== undefined) {
              yield* say(`Not attached: ${refused}.`)
              break
            }
            images = [...images, read]
            yield* say(style.dim(`Attached ${path}${read.width !== undefined ? ` (${read.width}×${read.height})` : ""}: it goes with your next message.`))
            break
          }
          case "auto": {
            if (arg === "") {
              yield* say(level === undefined
                ? "The model does not act (no tools). /auto off|low|medium|high lets it, at that level."
                : `The model acts with byok's tools at level ${level}; /auto LEVEL changes it.`)
              break
            }
            const next = autonomyOf(arg)
            if (next === undefined) {
              yield* say("Use /auto off, /auto low, /auto medium or /auto high.")
              break
            }
            level = next
            yield* say(style.dim(`The model acts with byok's tools at level ${next}, for this chat.`))
            break
          }
          case "effort": {
            if (arg === "") {
              const now = effort ?? conversation.model.reasoningEffort
              yield* say(`Reasoning effort: ${now ?? "the model's own default"}` +
                (effort === undefined ? " (the model's setting; /effort LEVEL changes it for this chat)" : " (set for this chat)"))
              break
            }
            const level = reasoningEffortOf(arg)
            if (level === undefined) {
              yield* say(`Use /effort ${REASONING_EFFORTS.join("|")}.`)
              break
            }
            effort = level
            yield* say(style.dim(`Reasoning effort is now ${level}, for this chat.`))
            break
          }
          case "model": {
            if (arg === "") {
              yield* say(modelList(loaded, conversation.model.entry, style))
              yield* say(style.dim("Switch with /model N or /model NAME; the conversation continues on the new model."))
              break
            }
            const chosen = yield* config.select(/^\d+$/.test(arg) ? { index: Number(arg) } : { name: arg }).pipe(
              Effect.result
            )
            if (Result.isFailure(chosen)) {
              // As -m does: the closest name, or which names match when several do.
              const error = chosen.failure
              const hint = error._tag === "UnknownModel" && error.suggestion !== undefined
                ? ` Did you mean "${error.suggestion}"?`
                : error._tag === "AmbiguousModel"
                ? ` Several models have that id: ${error.matches.map((m) => `"${m}"`).join(", ")}.`
                : ""
              yield* say(`No model "${arg}".${hint} ${usableEntries(loaded).length > 0 ? "/model lists them." : ""}`.trimEnd())
              break
            }
            conversation.switchModel(chosen.success)
            const next = chosen.success.entry
            yield* say(`Switched to ${style.bold(next.displayName)} (${next.provider}); the conversation continues.`)
            break
          }
          case "cost": {
            const costs = yield* conversation.costs.pipe(Effect.option)
            if (Option.isNone(costs)) {
              yield* say("The cost ledger cannot be read now.")
              break
            }
            yield* say(totalsLines("This conversation", costs.value.conversation, style))
            yield* say(totalsLines("All time", costs.value.allTime, style))
            const entry = conversation.model.entry
            const minimum = minimumCacheablePrompt(entry)
            const c = costs.value.conversation
            if (
              minimum !== undefined && c.requests >= 2 && c.cacheRead === 0 && lastInputTokens !== undefined &&
              lastInputTokens >= minimum
            ) {
              yield* say(
                `Caching did not engage: the last prompt was ${formatTokens(lastInputTokens)} tokens, above the ` +
                  `${formatTokens(minimum)}-token minimum of ${entry.model}, yet nothing was read from the cache.` +
                  ` A proxy in between may drop the cache markers, or the prompt changed at its start.`
              )
            }
            break
          }
          case "context": {
            const use = conversation.context(level !== undefined ? toolsFor(level).map((x) => x.definition) : undefined)
            const row = (name: string, n: number) => `  ${name.padEnd(14)} ${n.toLocaleString("en-US").padStart(9)}`
            yield* say(`context: ${use.used.toLocaleString("en-US")} of ${use.window.tokens.toLocaleString("en-US")} tokens (${Math.round((use.used / use.window.tokens) * 100)}%; the window from ${WINDOW_SOURCES[use.window.source]})`)
            yield* say(row("system prompt", use.parts.system))
            yield* say(row("AGENTS.md", use.parts.agents))
            yield* say(row("tools", use.parts.tools))
            yield* say(row("summary", use.parts.summary))
            yield* say(row("conversation", use.parts.conversation))
            yield* say(row("tool results", use.parts.results))
            yield* say(row("free", Math.max(0, use.window.tokens - use.used)))
            yield* say(style.dim("byok's estimate (about four characters a token, the last answer's real count as its base); /compact frees room now."))
            break
          }
          case "compact": {
            const why = yield* conversation.compact(arg === "" ? undefined : arg, (text) => say(style.dim(stripControls(text))))
            if (why !== undefined) yield* say(`Nothing compacted: ${why}.`)
            break
          }
          case "sandbox": {
            const box = yield* sandbox
            for (const line of describeSandbox(box, level ?? "off", process.cwd())) yield* say(stripControls(line))
            if (level === undefined) yield* say(style.dim("The model does not act now; /auto LEVEL lets it, and this is what its commands would get at off."))
            break
          }
          case "mcp": {
            if (mcp === undefined || hub === undefined) {
              yield* say("There is no mcp.json (~/.factory/mcp.json, or a trusted project's .factory/mcp.json). byok mcp add NAME -- COMMAND [ARGS…] adds a server.")
              break
            }
            const state = hub.states.find((x) => x.server.name === arg)
            if (arg !== "" && state === undefined) {
              yield* say(`No MCP server is named "${arg}". ${hub.states.length > 0 ? `The servers: ${hub.states.map((x) => x.server.name).join(", ")}.` : ""}`)
              break
            }
            // The list is what is known (no server is started for it); `/mcp NAME` starts that one to list its tools.
            if (state !== undefined && !state.server.disabled) yield* hub.start(state)
            for (const line of state !== undefined ? mcp.serverDetail(state, hub) : mcp.serverLines(hub)) yield* say(stripControls(line))
            if (state === undefined && hub.states.length > 0) yield* say(style.dim("/mcp NAME shows a server's tools and their risk."))
            break
          }
          case "sessions": {
            const list = yield* sessions.list(10).pipe(Effect.option)
            if (Option.isNone(list) || list.value.length === 0) {
              yield* say("No saved conversations yet.")
              break
            }
            for (const s of list.value) {
              const mark = s.id === conversation.id ? style.accent("*") : " "
              yield* say(`${mark} ${s.id.slice(0, 8)}  ${isoMinute(s.updated)}  ${style.dim(`${s.messages} msgs · ${s.modelName}`)}  ${s.title}`)
            }
            yield* say(style.dim("Resume one with: byok -s ID"))
            break
          }
        }
        return "continue" as const
      })

    /** A custom command: its prompt, or its script's output (through the key redactor), is the message. */
    const customCommand = (c: CustomCommand, arg: string): Effect.Effect<void> =>
      Effect.gen(function*() {
        const result = yield* Effect.promise((signal) => commandMessage(c, arg, process.cwd(), shellEnvironment(loaded, redactor).env, signal))
        if (!result.ok) return yield* say(`/${c.name}: ${stripControls(redactor.redact(result.reason))}; nothing was sent.`)
        if (result.cut) yield* warn(`/${c.name} printed more than ${SCRIPT_OUTPUT_LIMIT / 1024} KiB; the rest was cut`)
        yield* send(c.kind === "script" ? redactor.redact(result.text) : result.text)
      })

    /** An MCP prompt as a command: its arguments as NAME=VALUE, or in order (the last takes the rest). */
    const promptCommand = (c: ReturnType<typeof promptCommands>[number], arg: string): Effect.Effect<void> =>
      Effect.gen(function*() {
        const declared = c.prompt.arguments
        const words = arg.trim() === "" ? [] : arg.trim().split(/\s+/)
        const args: Record<string, string> = {}
        if (words.length > 0 && words.every((w) => /^[\w-]+=/.test(w))) {
          for (const w of words) args[w.slice(0, w.indexOf("="))] = w.slice(w.indexOf("=") + 1)
        } else {
          declared.forEach((a, i) => {
            const value = i === declared.length - 1 ? words.slice(i).join(" ") : words[i]
            if (value !== undefined && value !== "") args[a.name] = value
          })
        }
        const missing = declared.filter((a) => a.required && args[a.name] === undefined).map((a) => a.name)
        if (missing.length > 0) {
          return yield* say(stripControls(`/${c.name} needs ${missing.join(", ")}: /${c.name} ${declared.map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`)).join(" ")}; nothing was sent.`))
        }
        const text = yield* Effect.result(hub!.getPrompt(c.server, c.prompt.name, args))
        if (text._tag === "Failure") return yield* say(stripControls(`/${c.name}: ${text.failure}; nothing was sent.`))
        yield* send(text.success)
      })

    /** `@SERVER:URI` in a message: each resource read from that MCP server and put before the message as context. */
    const withResources = (text: string): Effect.Effect<string | undefined> =>
      Effect.gen(function*() {
        const names = new Set((hub?.states ?? []).map((st) => st.server.name))
        const found = [...text.matchAll(/(?:^|\s)@([\w-]+):(\S+)/g)].filter((m) => names.has(m[1]!))
        let context = ""
        for (const m of found) {
          const read = yield* Effect.result(hub!.readResource(m[1]!, m[2]!))
          if (read._tag === "Failure") {
            yield* say(stripControls(`@${m[1]}:${m[2]}: ${read.failure}; nothing was sent.`))
            return undefined
          }
          yield* tell(style.dim(stripControls(`[attached ${m[1]}:${m[2]}, ${read.success.split("\n").length} lines]`)))
          context += `The resource ${m[2]} of the MCP server "${m[1]}":\n${read.success}\n\n`
        }
        return `${context}${text}`
      })

    /** Handles one input line; "exit" ends the chat. */
    const handle = (line: string): Effect.Effect<"continue" | "exit"> => {
      const parsed = parseInput(line, custom)
      switch (parsed.kind) {
        case "empty":
          return Effect.succeed("continue")
        case "message":
          return Effect.as(
            hub !== undefined && parsed.text.includes("@")
              ? Effect.flatMap(withResources(parsed.text), (text) => (text === undefined ? Effect.void : send(text)))
              : send(parsed.text),
            "continue" as const
          )
        case "command":
          return command(parsed.name, parsed.arg)
        case "custom":
          return Effect.as(customCommand(parsed.command, parsed.arg), "continue" as const)
        case "unknown": {
          const asPrompt = promptCommands().find((c) => c.name.toLowerCase() === parsed.name.toLowerCase())
          if (asPrompt !== undefined) {
            const arg = /^\/\S*\s*([\s\S]*)$/.exec(line.trim())?.[1] ?? ""
            return Effect.as(promptCommand(asPrompt, arg), "continue" as const)
          }
          return Effect.as(
            say(`Unknown command /${parsed.name}.${parsed.suggestion ? ` Did you mean /${parsed.suggestion}?` : ""} ` +
              `Commands: ${COMMANDS.map((c) => `/${c.name}`).join(" ")}`),
            "continue" as const
          )
        }
      }
    }

    const first = flags.message?.join(" ").trim() ?? ""
    if (first !== "") {
      if (tty !== undefined) tty.write(`${style.accent("›")} ${first}\r\n`)
      else yield* tell(`› ${first}`)
      if ((yield* handle(first)) === "exit") return
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
    if (saved) {
      yield* tell(style.dim(`Resume this conversation with: byok -c (or byok -s ${conversation.id.slice(0, 8)})`))
    }
    // Leaving: rows the busy ledger refused get the ordinary wait now; any still refused are said, not dropped
    // in silence.
    const left = yield* conversation.flush.pipe(Effect.result)
    if (Result.isFailure(left)) {
      yield* warn(explainStoreWarning(left.failure, "answers could not be recorded in the cost ledger"))
    } else if (left.success > 0) {
      yield* warn(`the cost ledger stayed locked; ${left.success} answer(s) could not be recorded in it`)
    }
  })).pipe(withConfig(flags.config, "chat", { offline: flags.offline }))
