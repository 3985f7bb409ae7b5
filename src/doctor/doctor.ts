// The doctor: the troubleshooting page run for the user, one model at a time. Each check says ✓, ! or ✗ with the
// fix, in the order a problem shows itself (a broken entry, then the network, the server, the path, the model id,
// the key, the stream), and the checks after a failure they depend on are skipped. A dead entry is diagnosed in a
// few seconds: the network checks wait 3 s at most.
import { Duration, Effect, FileSystem, Stream } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { type EntryRecord, type Selected, unexpandedKeyWarning } from "../config/config.ts"
import type { ModelEntry } from "../config/schema.ts"
import { make as makeConversation } from "../conversation/conversation.ts"
import { ExitCode, providerExitCode } from "../explain/codes.ts"
import { explainProviderError } from "../explain/provider.ts"
import { sourceLabel } from "../ledger/cost.ts"
import { endingOf } from "../lib/cause.ts"
import { PRIVATE_DIR, PRIVATE_FILE, tighten } from "../lib/sqlite.ts"
import { closest } from "../lib/text.ts"
import { statSync } from "node:fs"
import { ConnectionError, ProviderError } from "../providers/errors.ts"
import { requestContext } from "../providers/format.ts"
import { fromTransport, requestInit, waitedTooLong } from "../providers/http.ts"
import { Network } from "../lib/network.ts"
import { VERSION } from "../version.ts"
import { LocalServers, serverOfKind } from "../providers/local.ts"
import { minimumCacheablePrompt, WIRE_FORMATS } from "../providers/registry.ts"

export type Status = "ok" | "warn" | "fail" | "skip"

export interface Check {
  readonly name: string
  readonly status: Status
  readonly detail: string
  readonly fix?: string | undefined
  /** For a failure: the exit code of its class (2 config, 3 key, 4 rate limit, 5 connection, 1 other). */
  readonly code?: number | undefined
}

export interface ModelReport {
  readonly model: string
  readonly checks: ReadonlyArray<Check>
}

export interface Options {
  /** Also send a long-enough prompt twice and look for cache reads (costs a little). */
  readonly cache: boolean
  /** --timeout or BYOK_TIMEOUT, in seconds: every wait of the checks. */
  readonly timeout?: number | undefined
}

/** How long a network check waits unless told otherwise: a dead entry is diagnosed in a few seconds. */
const NETWORK_TIMEOUT_SECONDS = 3
/** How long the test request waits unless told otherwise. */
const REQUEST_TIMEOUT_SECONDS = 30
const ok = (name: string, detail: string): Check => ({ name, status: "ok", detail })
const warn = (name: string, detail: string, fix?: string): Check => ({ name, status: "warn", detail, fix })
const fail = (name: string, detail: string, fix: string | undefined, code: number): Check => ({ name, status: "fail", detail, fix, code })
const skip = (name: string, why: string): Check => ({ name, status: "skip", detail: why })

/** Where the format lists its models. */
const modelsUrl = (entry: ModelEntry, base = entry.baseUrl) =>
  WIRE_FORMATS[entry.provider].addsVersion && !/\/v\d+$/.test(base) ? `${base}/v1/models` : `${base}/models`

/** The ids a `/models` answer lists: OpenAI's and Anthropic's `data[].id`, Ollama's `models[].name`. */
const listedIds = (json: unknown): ReadonlyArray<string> | undefined => {
  if (typeof json !== "object" || json === null) return undefined
  const j = json as { data?: unknown; models?: unknown }
  const list = Array.isArray(j.data) ? j.data : Array.isArray(j.models) ? j.models : undefined
  return list?.flatMap((m) => {
    const id = (m as { id?: unknown; name?: unknown })?.id ?? (m as { name?: unknown })?.name
    return typeof id === "string" ? [id] : []
  })
}

/** base_url spellings worth trying after a 404: with or without /v1, and Gemini's OpenAI-compatible path. */
const variants = (entry: ModelEntry): ReadonlyArray<string> => {
  const base = entry.baseUrl
  const out = [/\/v1$/.test(base) ? base.replace(/\/v1$/, "") : `${base}/v1`]
  if (entry.endpoint.hostname === "generativelanguage.googleapis.com") out.push(`${entry.endpoint.url.origin}/v1beta/openai`)
  return out.filter((v) => v !== base)
}

/** byok's own files, which hold prompts, answers and costs: the data directory and what is in it. */
const DATA_FILES = ["ledger.db", "ledger.db-wal", "ledger.db-shm", "sessions.db", "sessions.db-wal", "sessions.db-shm", "history.jsonl", "trusted.json", "mcp-tools.json"]

/**
 * Whether others can read byok's data directory or files. Any that can are tightened here, as byok does whenever
 * it opens them (lib/sqlite.ts), and said; one byok cannot change (another owner) is a warning with the chmod.
 */
export const dataFileChecks = (dir: string): ReadonlyArray<Check> => {
  const modeOf = (path: string) => {
    try {
      return statSync(path).mode & 0o777
    } catch {
      return undefined
    }
  }
  const checks: Array<Check> = []
  for (const [path, want] of [[dir, PRIVATE_DIR], ...DATA_FILES.map((f) => [`${dir}/${f}`, PRIVATE_FILE] as const)] as const) {
    const before = modeOf(path)
    if (before === undefined || (before & 0o077) === 0) continue
    tighten(path, want)
    const after = modeOf(path) ?? before
    checks.push(
      (after & 0o077) === 0
        ? warn("file modes", `${path} was readable by others (mode ${before.toString(8)}); byok made it ${want.toString(8)}`)
        : warn("file modes", `${path} is readable by others (mode ${after.toString(8)})`, `chmod ${want.toString(8)} ${path}`)
    )
  }
  return checks.length > 0 ? checks : [ok("file modes", `${dir} and its files are private (700, 600)`)]
}

export const diagnose = (record: EntryRecord, selected: Selected | undefined, options: Options) =>
  Effect.gen(function*() {
    const checks: Array<Check> = []
    const name = record.name ?? record.at
    // 1. The entry itself.
    const entry = record.entry
    if (entry === undefined || selected === undefined) {
      checks.push(fail(
        "config",
        record.issues.map((i) => `${i.path.slice(record.at.length).replace(/^\./, "") || "entry"}: ${i.message}`).join("; "),
        `fix ${record.at} in ${record.file}`,
        ExitCode.usage
      ))
      return { model: name, checks } satisfies ModelReport
    }
    checks.push(ok("config", `${entry.provider}, ${record.at} in ${record.file}`))
    for (const words of unexpandedKeyWarning(entry)) checks.push(warn("key text", words))
    const client = yield* HttpClient.HttpClient
    const servers = yield* LocalServers
    const fs = yield* FileSystem.FileSystem
    const network = yield* Network
    const networkTimeout = Duration.seconds(options.timeout ?? NETWORK_TIMEOUT_SECONDS)

    // 2. The network: the host resolves, connects, and (https) shakes hands; its /models says more. The checks go
    // the way exec's requests go: the same proxy (HTTPS_PROXY, NO_PROXY), the same CAs and caFile, no redirects.
    const ctx = requestContext(entry, network)
    const headers = { ...WIRE_FORMATS[entry.provider].authHeaders(entry), "user-agent": `byok/${VERSION}`, ...entry.extraHeaders }
    const get = (url: string) =>
      Effect.flatMap(requestInit(ctx), (init) =>
        client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers))).pipe(
          // The key is in these headers: no redirect may carry it elsewhere (see providers/http.ts).
          Effect.provideService(FetchHttpClient.RequestInit, init),
          Effect.mapError((e) => fromTransport(ctx, e))
        )).pipe(
          Effect.flatMap((response) =>
            Effect.map(response.json.pipe(Effect.orElseSucceed(() => undefined)), (json) => ({ status: response.status, json }))
          ),
          Effect.timeoutOrElse({ duration: networkTimeout, orElse: () => Effect.fail(waitedTooLong(ctx, networkTimeout)) }),
          Effect.result
        )
    const started = performance.now()
    const first = yield* get(modelsUrl(entry))
    if (first._tag === "Failure") {
      const words = explainProviderError(first.failure, false)
      checks.push(fail("connect", words.headline, words.lines[0], ExitCode.connection))
      for (const rest of ["server", "base_url", "model", "key", "stream"]) checks.push(skip(rest, "the host cannot be reached"))
      return { model: name, checks } satisfies ModelReport
    }
    checks.push(ok("connect", `${entry.endpoint.host} answered in ${Math.round(performance.now() - started)} ms` + (entry.endpoint.url.protocol === "https:" ? " (TLS ok)" : "")))

    // 3. Which server it is.
    const served = yield* servers.recognise(entry)
    checks.push(
      served !== undefined
        ? ok("server", serverOfKind(served.kind).name)
        : ok("server", entry.endpoint.isLocal ? "not Ollama, llama.cpp, vLLM or LM Studio" : `a ${WIRE_FORMATS[entry.provider].label} API`)
    )

    // 4. The path: a 404 on /models is most often a base_url missing /v1, or with one too many.
    let listed = listedIds(first.success.json)
    if (first.success.status === 404) {
      let found: string | undefined
      for (const v of variants(entry)) {
        const r = yield* get(modelsUrl(entry, v))
        if (r._tag === "Success" && r.success.status < 400) {
          found = v
          listed = listedIds(r.success.json)
          break
        }
      }
      checks.push(
        found !== undefined
          ? fail("base_url", `${modelsUrl(entry)} is not found, but ${modelsUrl(entry, found)} is`, `set base_url to "${found}" in ${record.file}`, ExitCode.usage)
          : warn("base_url", `${modelsUrl(entry)} is not found (HTTP 404); the server may not list models`)
      )
    } else if (first.success.status >= 400 && first.success.status !== 401 && first.success.status !== 403) {
      checks.push(warn("base_url", `${modelsUrl(entry)} answered HTTP ${first.success.status}`))
    } else {
      checks.push(ok("base_url", entry.baseUrl))
    }

    // 5. The model id.
    if (listed === undefined) {
      checks.push(skip("model", first.success.status === 401 || first.success.status === 403 ? "the server would not list models without a valid key" : "the server lists no models"))
    } else if (listed.includes(entry.model)) {
      checks.push(ok("model", `"${entry.model}" is among the ${listed.length} it serves`))
    } else {
      const guess = closest(entry.model, listed)
      checks.push(fail(
        "model",
        `"${entry.model}" is not among the ${listed.length} it serves` + (guess !== undefined ? `; did you mean "${guess}"?` : ""),
        served?.kind === "ollama"
          ? `ollama pull ${entry.model}, or set "model" to one of: ${listed.slice(0, 8).join(", ")}`
          : `set "model" in ${record.file} to one of: ${listed.slice(0, 8).join(", ")}`,
        ExitCode.other
      ))
    }

    // 6, 7, 11. The key, the stream and its usage, the time to the first token: the smallest real request.
    const requestTimeout = options.timeout ?? REQUEST_TIMEOUT_SECONDS
    const probe = makeConversation({ selected, maxRetries: 0, timeout: requestTimeout, ephemeral: true }).pipe(
      Effect.flatMap((c) => c.send("Reply with the word OK.", { render: Stream.runDrain, maxOutputTokens: 1 }))
    )
    let turn = yield* probe
    // A kept-alive connection that the server or a proxy closed just as the request went out says nothing about
    // either: the doctor sends once more before it calls that a failure (the SDKs retry it too).
    if (closedBeforeAnswer(turn.failure)) turn = yield* probe
    if (turn.failure !== undefined) {
      const ending = endingOf(turn.failure)
      const error = ending._tag === "Failed" && ending.error instanceof ProviderError ? ending.error : undefined
      const words = error !== undefined ? explainProviderError(error, false) : { headline: "the request failed", lines: [] }
      const code = error !== undefined ? providerExitCode(error.reason) : ExitCode.other
      const which = error?.reason._tag === "AuthenticationError"
        ? "key"
        : error?.reason._tag === "RateLimitError"
        ? "quota"
        : "stream"
      if (which !== "key") checks.push(ok("key", "not refused"))
      checks.push(fail(which, words.headline, words.lines[0], code))
      if (which !== "stream") checks.push(skip("stream", which === "key" ? "the key was refused" : "the request was refused"))
    } else {
      checks.push(ok("key", "accepted"))
      checks.push(
        turn.usage !== undefined && turn.usage.native !== null
          ? ok("stream", `streams, and reports usage (${turn.usage.input.total} tokens in)`)
          : warn("stream", "streams, but reports no usage: tokens and costs cannot be counted", "a proxy in between may drop stream_options.include_usage")
      )
    }

    // 8. The price.
    const price = selected.price
    checks.push(
      price.kind === "unpriced"
        ? warn("price", "unpriced: byok cannot tell what it costs", `add its price to "prices" in byok's own config file (see README)`)
        : ok("price", price.kind === "local" ? "local (free)" : `${sourceLabel(price)}: $${price.price.input} in / $${price.price.output} out per million tokens`)
    )

    // 9. The context window, and an output cap that alone would fill it (no prompt could fit beside it).
    const capField = entry.source.path.startsWith("customModels") ? "maxOutputTokens" : "max_tokens"
    checks.push(
      served?.context !== undefined && entry.maxOutputTokens >= served.context
        ? warn(
          "context",
          `${serverOfKind(served.kind).name} serves ${served.context.toLocaleString("en-US")} tokens, and ` +
            `${capField} (${entry.maxOutputTokens.toLocaleString("en-US")}) alone asks for that much or more: every prompt will be too long`,
          `set ${capField} of "${entry.displayName}" in ${entry.source.file} to about ${Math.floor(served.context / 4)}, ` +
            `or serve a larger context (${serverOfKind(served.kind).name})`
        )
        : served?.context !== undefined
        ? ok("context", `${serverOfKind(served.kind).name} serves ${served.context.toLocaleString("en-US")} tokens`)
        : warn("context", served !== undefined ? `${serverOfKind(served.kind).name} does not say yet (the model is not loaded)` : "not known to byok")
    )

    // 10. A key written in a file others can read.
    if (entry.source.literalKey === true) {
      const info = yield* fs.stat(entry.source.file).pipe(Effect.option)
      const mode = info._tag === "Some" ? Number(info.value.mode) & 0o777 : 0
      if ((mode & 0o077) !== 0) {
        checks.push(warn(
          "key file",
          `the key is written in ${entry.source.file}, which others can read (mode ${mode.toString(8)})`,
          `chmod 600 ${entry.source.file}, or put the key in an environment variable: "\${MY_KEY}"`
        ))
      }
    }

    if (turn.ttftMs !== undefined) checks.push(ok("first token", `${turn.ttftMs} ms`))

    // --cache: the same long-enough prompt twice; the second should read the first's cache.
    if (options.cache && turn.failure === undefined) {
      const minimum = minimumCacheablePrompt(entry) ?? 1024
      const long = `${"Reference text for a cache check. ".repeat(Math.ceil((minimum * 1.3 * 4) / 34))}\nReply with OK.`
      const cached = yield* makeConversation({ selected, maxRetries: 0, timeout: requestTimeout, ephemeral: true })
      yield* cached.send(long, { render: Stream.runDrain, maxOutputTokens: 1 })
      const again = yield* makeConversation({ selected, maxRetries: 0, timeout: requestTimeout, ephemeral: true })
      const second = yield* again.send(long, { render: Stream.runDrain, maxOutputTokens: 1 })
      const read = second.usage?.input.cacheRead ?? 0
      checks.push(
        read > 0
          ? ok("cache", `the repeated prompt read ${read} tokens from the cache`)
          : warn("cache", "the repeated prompt read nothing from the cache", "a proxy in between may drop cache markers, or the server does not cache prompts")
      )
    }
    return { model: name, checks } satisfies ModelReport
  })

const closedBeforeAnswer = (failure: Parameters<typeof endingOf>[0] | undefined): boolean => {
  if (failure === undefined) return false
  const ending = endingOf(failure)
  return ending._tag === "Failed" && ending.error instanceof ProviderError &&
    ending.error.reason instanceof ConnectionError && ending.error.reason.kind === "reset"
}
