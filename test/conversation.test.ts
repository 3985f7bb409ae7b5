// The turn engine in-process: a scripted Provider, a ledger and a session store in a temporary directory, and a
// Config service that knows two models of different wire formats. No binary, no terminal.
import { describe, expect, test } from "bun:test"
import { Clock, Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Sessions from "../src/chat/sessions.ts"
import { ConfigService, type Selected } from "../src/config/config.ts"
import { ConfigNotFound, UnknownModel } from "../src/config/errors.ts"
import * as Conversation from "../src/conversation/conversation.ts"
import * as Ledger from "../src/ledger/ledger.ts"
import { type LlmRequest, textOf } from "../src/providers/conversation.ts"
import { ProviderError, RateLimitError } from "../src/providers/errors.ts"
import { emptyUsage, type LlmEvent, makeUsage } from "../src/providers/event.ts"
import { LocalServers } from "../src/providers/local.ts"
import { Provider } from "../src/providers/provider.ts"
import * as Redact from "../src/lib/redact.ts"
import { counterFor } from "../src/lib/tokens.ts"
import { Redactor } from "../src/lib/redact.ts"
import { CANARY, makeEntry, noLocalServers, turn } from "./lib/provider.ts"

const local = makeEntry({ displayName: "Local", model: "qwen", baseUrl: "http://127.0.0.1:8080/v1" })
const claude = makeEntry({
  displayName: "Claude",
  model: "claude-sonnet-4-5",
  provider: "anthropic",
  baseUrl: "https://api.anthropic.com"
})
const selected = (entry: typeof local): Selected => ({ entry, price: { kind: "local" }, warnings: [], reasoningEffort: undefined })

/**
 * What one scripted call answers: text deltas then a Finish, a failure, text and then a wait forever, or the
 * given events after the Start.
 */
type Script =
  | { readonly text: ReadonlyArray<string> }
  | { readonly events: ReadonlyArray<LlmEvent> }
  | { readonly fail: ProviderError }
  | { readonly partial: string; readonly started: Deferred.Deferred<void> }

const usage = makeUsage({ inclusiveTotal: 12, output: 3, native: {} })

const answer = (script: Script): Stream.Stream<LlmEvent, ProviderError> => {
  const start: LlmEvent = { _tag: "Start", requestId: "req-1", model: undefined }
  if ("fail" in script) return Stream.concat(Stream.make(start), Stream.fail(script.fail))
  if ("events" in script) return Stream.make<Array<LlmEvent>>(start, ...script.events)
  if ("partial" in script) {
    return Stream.concat(
      Stream.make<Array<LlmEvent>>(start, { _tag: "TextDelta", text: script.partial }),
      Stream.fromEffect(Deferred.succeed(script.started, undefined)).pipe(
        Stream.flatMap(() => Stream.never),
        Stream.map((): LlmEvent => ({ _tag: "TextDelta", text: "never" }))
      )
    )
  }
  return Stream.make<Array<LlmEvent>>(
    start,
    ...script.text.map((text): LlmEvent => ({ _tag: "TextDelta", text })),
    { _tag: "Finish", reason: "stop", rawReason: "stop", usage }
  )
}

const setup = (scripts: Array<Script>) => {
  const dir = mkdtempSync(join(tmpdir(), "byok-conversation-"))
  const requests: Array<LlmRequest> = []
  const provider = Layer.succeed(Provider, Provider.of({
    stream: (request) =>
      Stream.suspend(() => {
        requests.push(request)
        return answer(scripts.shift() ?? { text: ["(no script)"] })
      })
  }))
  const config = Layer.succeed(ConfigService, ConfigService.of({
    // (no settings in these tests: compaction and the rest take their defaults)
    load: Effect.fail(new ConfigNotFound({ path: "(none)", detail: "no config in this test" })),
    select: (query = {}) => {
      const name = query.name ?? query.saved ?? "Local"
      const entry = [local, claude].find((e) => e.displayName === name)
      return entry !== undefined
        ? Effect.succeed(selected(entry))
        : Effect.fail(new UnknownModel({ query: name, available: ["Local", "Claude"] }))
    }
  }))
  const ledger = Ledger.make(join(dir, "ledger.db"))
  const redactor = Redact.make([CANARY])
  const sessions = Sessions.make(join(dir, "sessions.db"))
  const layer = Layer.mergeAll(
    provider,
    config,
    Layer.succeed(Ledger.CostLedger, ledger),
    Layer.succeed(Sessions.SessionStore, sessions),
    Layer.succeed(Redactor, redactor),
    noLocalServers
  )
  const run = <A, E>(
    effect: Effect.Effect<A, E, Provider | ConfigService | Ledger.CostLedger | Sessions.SessionStore | Redactor | LocalServers>
  ) =>
    Effect.runPromise(Effect.provide(effect, layer))
  return { requests, ledger, sessions, run }
}

const drain = (events: Stream.Stream<LlmEvent, ProviderError>) => Stream.runDrain(events)

const rateLimited = new ProviderError({
  entry: local,
  midStream: false,
  reason: new RateLimitError({ quota: true })
})

describe("conversation engine", () => {
  test("durations come from a clock that never moves back: the wall clock set back an hour mid-request changes nothing", async () => {
    const t = setup([{ text: ["ok"] }])
    let wall = 1_800_000_000_000
    let mono = 5_000_000_000n
    // Each reading: the wall clock an hour earlier than the last, the monotonic one 10 ms later.
    const jumping: Clock.Clock = {
      currentTimeMillisUnsafe: () => (wall -= 3_600_000),
      currentTimeMillis: Effect.sync(() => (wall -= 3_600_000)),
      currentTimeNanosUnsafe: () => BigInt(wall -= 3_600_000) * 1_000_000n,
      currentTimeNanos: Effect.sync(() => BigInt(wall -= 3_600_000) * 1_000_000n),
      monotonicTimeNanosUnsafe: () => (mono += 10_000_000n),
      monotonicTimeNanos: Effect.sync(() => (mono += 10_000_000n)),
      sleep: (d) => Effect.sleep(d)
    }
    const turn = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ maxRetries: 0 })
      return yield* conversation.send("hi", { render: drain })
    }).pipe(Effect.provideService(Clock.Clock, jumping)))
    expect(turn.row.durationMs).toBeGreaterThan(0)
    expect(turn.row.durationMs).toBeLessThan(1000)
    expect(turn.row.ttftMs ?? 0).toBeGreaterThanOrEqual(0)
  })

  test("an estimate counts all of the reasoning, the end a redactor held back until the Finish included", async () => {
    // The reasoning ends in what could be the start of the key, so the redactor holds it until the Finish; the
    // server sends no usage, so byok counts the output itself.
    const held = CANARY.slice(0, -1)
    const t = setup([{
      events: [
        { _tag: "ReasoningDelta", text: `I think ${held}` },
        { _tag: "TextDelta", text: "four" },
        { _tag: "Finish", reason: "stop", rawReason: "stop", usage: emptyUsage }
      ]
    }])
    const turn = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ maxRetries: 0 })
      return yield* conversation.send("2+2?", { render: drain })
    }))
    const { count } = await counterFor(local.model)
    expect(turn.usage?.estimated).toBe(true)
    // The estimate counts the answer and the reasoning together (conversation.ts: estimateUsage), as redacted: the
    // key's first characters are themselves a secret.
    const reasoning = Redact.make([CANARY]).redact(`I think ${held}`)
    expect(reasoning).not.toBe(`I think ${held}`)
    expect(turn.usage?.output.total).toBe(count(`four${reasoning}`))
  })

  test("two turns: the second request carries the first answer; each is recorded and saved", async () => {
    const t = setup([{ text: ["Hel", "lo"] }, { text: ["again"] }])
    const results = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ system: "Be brief.", maxRetries: 0 })
      const first = yield* conversation.send("hi", { render: drain })
      const second = yield* conversation.send("more", { render: drain })
      return { first, second, id: conversation.id }
    }))
    expect(results.first).toMatchObject({ text: "Hello", outcome: "ok", recorded: "written", requestId: "req-1" })
    expect(results.first.failure).toBeUndefined()
    expect(results.first.usage?.output.total).toBe(3)
    expect(results.second.text).toBe("again")
    expect(t.requests[1]!.conversation).toEqual({
      id: results.id,
      system: "Be brief.",
      turns: [
        turn("user", "hi"),
        turn("assistant", "Hello"),
        turn("user", "more")
      ]
    })
    const report = await t.run(t.ledger.report({ conversation: results.id }))
    expect(report.total.requests).toBe(2)
    const saved = await t.run(t.sessions.load(results.id))
    expect(saved?.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "hi"],
      ["assistant", "Hello"],
      ["user", "more"],
      ["assistant", "again"]
    ])
  })

  test("a failed turn is returned with its failure, recorded as failed, and not saved or added", async () => {
    const t = setup([{ text: ["ok"] }, { fail: rateLimited }, { text: ["after"] }])
    const r = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ maxRetries: 0 })
      yield* conversation.send("one", { render: drain })
      const failed = yield* conversation.send("two", { render: drain })
      yield* conversation.send("three", { render: drain })
      return { failed, id: conversation.id, turns: conversation.turns }
    }))
    expect(r.failed.outcome).toBe("RateLimitError")
    expect(r.failed.failure).toBeDefined()
    expect(r.failed.row.outcome).toBe("RateLimitError")
    expect(t.requests[2]!.conversation.turns.map((x) => textOf(x))).toEqual(["one", "ok", "three"])
    const saved = await t.run(t.sessions.load(r.id))
    expect(saved?.messages.map((m) => m.content)).toEqual(["one", "ok", "three", "after"])
    const report = await t.run(t.ledger.report({ conversation: r.id }))
    expect(report.total).toMatchObject({ requests: 3, failed: 1 })
  })

  test("an interrupt keeps the partial text, outcome interrupted, saved and marked; the result still comes back", async () => {
    const started = Effect.runSync(Deferred.make<void>())
    const t = setup([{ partial: "half an ans", started }, { text: ["next"] }])
    const r = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ maxRetries: 0 })
      // As the chat does: the turn in a fiber of its own, run to completion; Ctrl-C interrupts that fiber.
      let result: Conversation.TurnResult | undefined
      const fiber = yield* Effect.forkChild(Effect.uninterruptible(
        Effect.map(conversation.send("tell me", { render: drain }), (turn) => void (result = turn))
      ))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      yield* conversation.send("go on", { render: drain })
      return { result: result!, id: conversation.id }
    }))
    expect(r.result).toMatchObject({ text: "half an ans", outcome: "interrupted" })
    expect(r.result.row.outcome).toBe("interrupted")
    expect(t.requests[1]!.conversation.turns.map((x) => textOf(x))).toEqual(["tell me", "half an ans", "go on"])
    const saved = await t.run(t.sessions.load(r.id))
    expect(saved?.messages.map((m) => [m.content, m.interrupted])).toEqual([
      ["tell me", false],
      ["half an ans", true],
      ["go on", false],
      ["next", false]
    ])
  })

  test("resume restores the history, the system prompt and the model the conversation last used", async () => {
    const t = setup([{ text: ["first"] }, { text: ["resumed"] }])
    const id = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ model: "Claude", system: "Sys.", maxRetries: 0 })
      yield* conversation.send("q1", { render: drain })
      return conversation.id
    }))
    const r = await t.run(Effect.gen(function*() {
      const { conversation, resumed } = yield* Conversation.open({ session: id.slice(0, 8), maxRetries: 0 })
      const turn = yield* conversation.send("q2", { render: drain })
      return { resumed, turn, id: conversation.id }
    }))
    expect(r.resumed?.id).toBe(id)
    expect(r.id).toBe(id)
    expect(r.turn.entry.displayName).toBe("Claude")
    expect(t.requests[1]!.conversation).toMatchObject({
      id,
      system: "Sys.",
      turns: [turn("user", "q1"), turn("assistant", "first"), turn("user", "q2")]
    })
  })

  test("switching model mid-conversation carries the history to the other wire format", async () => {
    const t = setup([{ text: ["local answer"] }, { text: ["claude answer"] }])
    const r = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ maxRetries: 0 })
      yield* conversation.send("hello", { render: drain })
      conversation.switchModel(selected(claude))
      const turn = yield* conversation.send("and you?", { render: drain })
      return { turn, id: conversation.id }
    }))
    expect(t.requests.map((q) => q.model.provider)).toEqual(["generic-chat-completion-api", "anthropic"])
    expect(t.requests[1]!.conversation.turns.map((x) => textOf(x))).toEqual(["hello", "local answer", "and you?"])
    const saved = await t.run(t.sessions.load(r.id))
    expect(saved?.messages.map((m) => m.modelName)).toEqual(["Local", "Local", "Claude", "Claude"])
    const report = await t.run(t.ledger.report({ conversation: r.id }))
    expect(report.byModel.map((m) => m.key).sort()).toEqual(["Claude", "Local"])
  })

  test("-s with no such conversation is a usage error; a render that fails is the turn's failure", async () => {
    const t = setup([{ text: ["x"] }])
    const missing = await t.run(Effect.flip(Conversation.open({ session: "nope", maxRetries: 0 })))
    expect(missing._tag).toBe("UsageError")
    const r = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ maxRetries: 0 })
      return yield* conversation.send("hi", { render: (events) => Stream.runDrain(events).pipe(Effect.andThen(Effect.fail("disk full"))) })
    }))
    expect(r.outcome).toBe("defect")
    expect(r.failure).toBeDefined()
    expect(r.usage).toEqual(usage)
  })
})

describe("estimated usage when the server's count never came", () => {
  test("an interrupted answer is booked with byok's count of the prompt and of the text shown, marked estimated", async () => {
    const started = Effect.runSync(Deferred.make<void>())
    const t = setup([{ partial: "a partial answer of several words", started }])
    const r = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ system: "Be brief.", maxRetries: 0 })
      let result: Conversation.TurnResult | undefined
      const fiber = yield* Effect.forkChild(Effect.uninterruptible(
        Effect.map(conversation.send("tell me a story", { render: drain }), (turn) => void (result = turn))
      ))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      return result!
    }))
    expect(r.outcome).toBe("interrupted")
    expect(r.usage?.estimated).toBe(true)
    expect(r.row.estimated).toBe(true)
    expect(r.row.usageReported).toBe(false)
    // About four characters a token for a model byok has no tokenizer for.
    expect(r.row.outputTokens).toBe(Math.ceil("a partial answer of several words".length / 4))
    expect(r.row.inputUncached).toBe(Math.ceil("Be brief.".length / 4) + 4 + Math.ceil("tell me a story".length / 4) + 4)
    const report = await t.run(t.ledger.report({}))
    expect(report.total.estimated).toBe(1)
  })

  test("an OpenAI model's output is counted with OpenAI's own tokenizer", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base")
    const started = Effect.runSync(Deferred.make<void>())
    const t = setup([{ partial: "Tokenizers split text into subword units, like unbelievable.", started }])
    const r = await t.run(Effect.gen(function*() {
      const gpt = makeEntry({ displayName: "GPT", model: "gpt-5.1", provider: "openai", baseUrl: "https://api.openai.com/v1" })
      const conversation = yield* Conversation.make({ selected: { entry: gpt, price: { kind: "unpriced" }, warnings: [], reasoningEffort: undefined }, maxRetries: 0 })
      let result: Conversation.TurnResult | undefined
      const fiber = yield* Effect.forkChild(Effect.uninterruptible(
        Effect.map(conversation.send("hi", { render: drain }), (turn) => void (result = turn))
      ))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      return result!
    }))
    expect(r.row.outputTokens).toBe(countTokens("Tokenizers split text into subword units, like unbelievable."))
    expect(r.row.outputTokens).not.toBe(Math.ceil("Tokenizers split text into subword units, like unbelievable.".length / 4))
  })

  test("a finished answer whose server said its count is not an estimate", async () => {
    const t = setup([{ text: ["done"] }])
    const r = await t.run(Effect.gen(function*() {
      const { conversation } = yield* Conversation.open({ maxRetries: 0 })
      return yield* conversation.send("hi", { render: drain })
    }))
    expect(r.row.estimated).toBe(false)
    expect(r.usage?.estimated).toBeUndefined()
  })
})
