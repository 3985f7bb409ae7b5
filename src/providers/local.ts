// What byok knows of the model servers people run themselves (Ollama, llama.cpp, vLLM, LM Studio), and how it asks
// them: which one listens (each has an endpoint of its own), the context it serves a model with, the models it
// has, and on which default port each listens (for discovery and for hints). Read by explain/, the conversation
// engine (context warnings), config (discovery) and the doctor. Probes are short GETs, cached per process.
import { Context, Duration, Effect, Layer } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { Network, proxyFor } from "../lib/network.ts"
import { VERSION } from "../version.ts"
import type { ModelEntry } from "../config/schema.ts"

export type ServerKind = "ollama" | "llama.cpp" | "vllm" | "lmstudio"

export interface LocalServer {
  readonly kind: ServerKind
  readonly name: string
  readonly defaultPort: string
  /** How to start it, as a sentence. */
  readonly start: string
  /** How to serve a larger context, `tokens` of it. */
  readonly contextFix: (tokens: number, model: string) => string
  /** The api_key a discovered model is given (these servers take any text). */
  readonly placeholderKey: string
}

export const LOCAL_SERVERS: ReadonlyArray<LocalServer> = [
  {
    kind: "ollama",
    name: "Ollama",
    defaultPort: "11434",
    start: "start it with `ollama serve` (and `ollama pull <model>` once)",
    contextFix: (n) => `start Ollama with a larger context: OLLAMA_CONTEXT_LENGTH=${n} ollama serve`,
    placeholderKey: "ollama"
  },
  {
    kind: "llama.cpp",
    name: "llama.cpp",
    defaultPort: "8080",
    start: "start it with `llama-server -m model.gguf --port 8080`",
    contextFix: (n) => `restart llama-server with a larger context: llama-server -m model.gguf -c ${n}`,
    placeholderKey: "llama.cpp"
  },
  {
    kind: "lmstudio",
    name: "LM Studio",
    defaultPort: "1234",
    start: "start its local server (Developer tab → Start Server, or `lms server start`)",
    contextFix: (n, model) => `load ${model} with a larger context in LM Studio: lms load ${model} --context-length ${n}`,
    placeholderKey: "lm-studio"
  },
  {
    kind: "vllm",
    name: "vLLM",
    defaultPort: "8000",
    start: "start it with `vllm serve <model>`",
    contextFix: (n, model) => `restart vLLM with a larger context: vllm serve ${model} --max-model-len ${n}`,
    placeholderKey: "vllm"
  }
]

export const serverOfKind = (kind: ServerKind): LocalServer => LOCAL_SERVERS.find((s) => s.kind === kind)!

/** The local server an entry most likely points at, by its port; undefined for remote hosts and other ports. */
export const localServerOf = (entry: ModelEntry): LocalServer | undefined =>
  entry.endpoint.isLocal ? LOCAL_SERVERS.find((s) => s.defaultPort === entry.endpoint.port) : undefined

/** What to start when nothing listens at a local entry's address. */
export const startHint = (entry: ModelEntry): string => {
  const server = localServerOf(entry)
  return server !== undefined ? `${server.name}: ${server.start}` : "Start the model server"
}

// ---- asking a server -----------------------------------------------------------------------------------------------

/** What a server said of itself and of one model. */
export interface Served {
  readonly kind: ServerKind
  /** The context, in tokens, it serves the model with now; undefined when it cannot tell (e.g. not loaded yet). */
  readonly context: number | undefined
  /** The models it has: pulled (Ollama) or served. */
  readonly models: ReadonlyArray<string>
}

/** Models found on a local server by discovery. */
export interface Discovered {
  readonly server: LocalServer
  readonly baseUrl: string
  readonly models: ReadonlyArray<string>
  /** The context the server serves (llama.cpp's n_ctx, vLLM's max_model_len), when it says without a model named. */
  readonly context?: number | undefined
}

type Json = Record<string, unknown>
const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const num = (u: unknown) => (typeof u === "number" && Number.isFinite(u) && u > 0 ? u : undefined)

/** GET or POST a JSON endpoint; undefined for anything but a 2xx JSON object within the time given. */
const askJson = (client: HttpClient.HttpClient, url: string, timeout: Duration.Input, body?: unknown) =>
  client.execute(
    (body === undefined
      ? HttpClientRequest.get(url)
      : HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(JSON.stringify(body), "application/json"))).pipe(
        HttpClientRequest.setHeader("user-agent", `byok/${VERSION}`)
      )
  ).pipe(
    Effect.flatMap((response) => (response.status >= 200 && response.status < 300 ? response.json : Effect.succeed(undefined))),
    Effect.map((json) => (isObject(json) ? json : undefined)),
    Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed(undefined) }),
    Effect.orElseSucceed(() => undefined)
  )

/** The objects of a list field (`data` of an OpenAI-style list, `models` of Ollama's). */
const listOf = (json: Json | undefined, field: string): Array<Json> =>
  Array.isArray(json?.[field]) ? json[field].filter(isObject) : []

/** The ids of an OpenAI-style `/v1/models` list. */
const modelIds = (list: Json | undefined): Array<string> =>
  listOf(list, "data").flatMap((m) => (typeof m["id"] === "string" ? [m["id"]] : []))

/**
 * Which server listens at an origin: each answers one endpoint the others do not. Ollama `/api/version`,
 * llama.cpp `/props`, LM Studio `/api/v0/models`, vLLM `/version` (asked at once; the first that fits wins, in
 * that order).
 */
export const recogniseAt = (client: HttpClient.HttpClient, origin: string, timeout: Duration.Input) =>
  Effect.all([
    askJson(client, `${origin}/api/version`, timeout),
    askJson(client, `${origin}/props`, timeout),
    askJson(client, `${origin}/api/v0/models`, timeout),
    askJson(client, `${origin}/version`, timeout)
  ], { concurrency: "unbounded" }).pipe(
    Effect.map(([ollama, props, lmstudio, vllm]): ServerKind | undefined =>
      typeof ollama?.["version"] === "string"
        ? "ollama"
        : props !== undefined && ("default_generation_settings" in props || "n_ctx" in props || "build_info" in props)
        ? "llama.cpp"
        : lmstudio !== undefined && Array.isArray(lmstudio["data"])
        ? "lmstudio"
        : typeof vllm?.["version"] === "string"
        ? "vllm"
        : undefined
    )
  )

/** The context a recognised server serves `model` with, and the models it has. */
export const servedBy = (
  client: HttpClient.HttpClient,
  origin: string,
  kind: ServerKind,
  model: string,
  timeout: Duration.Input
): Effect.Effect<Served> =>
  Effect.gen(function*() {
    switch (kind) {
      case "ollama": {
        const none = Effect.succeed(undefined)
        const [ps, tags, show] = yield* Effect.all([
          model === "" ? none : askJson(client, `${origin}/api/ps`, timeout),
          askJson(client, `${origin}/api/tags`, timeout),
          model === "" ? none : askJson(client, `${origin}/api/show`, timeout, { model })
        ], { concurrency: "unbounded" })
        const names = (list: Json | undefined) =>
          listOf(list, "models").map((m) => ({ name: String(m["name"] ?? m["model"] ?? ""), m }))
        const same = (name: string) => name === model || name === `${model}:latest` || `${name}:latest` === model
        // Loaded: /api/ps says the context it was loaded with. Not loaded: a num_ctx in its Modelfile.
        const loaded = names(ps).find((x) => same(x.name))
        const numCtx = typeof show?.["parameters"] === "string" ? /(?:^|\n)\s*num_ctx\s+(\d+)/.exec(show["parameters"]) : null
        return {
          kind,
          context: num(loaded?.m["context_length"]) ?? (numCtx ? Number(numCtx[1]) : undefined),
          models: names(tags).map((x) => x.name)
        }
      }
      case "llama.cpp": {
        const [props, models] = yield* Effect.all([
          askJson(client, `${origin}/props`, timeout),
          askJson(client, `${origin}/v1/models`, timeout)
        ], { concurrency: "unbounded" })
        const settings = isObject(props?.["default_generation_settings"]) ? props["default_generation_settings"] : {}
        return { kind, context: num(settings["n_ctx"]) ?? num(props?.["n_ctx"]), models: modelIds(models) }
      }
      case "vllm": {
        const models = yield* askJson(client, `${origin}/v1/models`, timeout)
        const data = listOf(models, "data")
        const entry = data.find((m) => m["id"] === model) ?? data[0]
        return { kind, context: num(entry?.["max_model_len"]), models: modelIds(models) }
      }
      case "lmstudio": {
        const models = yield* askJson(client, `${origin}/api/v0/models`, timeout)
        const data = listOf(models, "data")
        const entry = data.find((m) => m["id"] === model)
        return {
          kind,
          context: entry?.["state"] === "loaded" ? num(entry["loaded_context_length"]) : undefined,
          models: data.filter((m) => m["type"] !== "embeddings").map((m) => String(m["id"]))
        }
      }
    }
  })

// ---- the service ---------------------------------------------------------------------------------------------------

/** How long one probe of a server may take when byok asks about a model it is about to use or that just failed. */
const PROBE_TIMEOUT = Duration.millis(500)
/** How long discovery may take, all ports together: a server that is down costs no more than this. */
export const DISCOVERY_TIMEOUT = Duration.millis(100)
const DISCOVERY_STEP = Duration.millis(50)

export interface Interface {
  /** What serves an entry, with the context it serves the model with; undefined when byok cannot tell. Cached. */
  readonly recognise: (entry: ModelEntry) => Effect.Effect<Served | undefined>
  /** The local servers listening on their default loopback ports, and their models, within DISCOVERY_TIMEOUT. */
  readonly discover: Effect.Effect<ReadonlyArray<Discovered>>
}

export class LocalServers extends Context.Service<LocalServers, Interface>()("byok/LocalServers") {}

export const make = Effect.fn("LocalServers.make")(function*() {
  // The probes go the way a model's requests go: through the proxy byok would use for that host (loopback goes
  // direct unless NO_PROXY says otherwise: lib/network.ts).
  const network = yield* Network
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.transform((effect, request) => {
      const proxy = proxyFor(network, new URL(request.url))
      return proxy === undefined ? effect : Effect.provideService(effect, FetchHttpClient.RequestInit, { proxy } as RequestInit)
    })
  )
  const kinds = new Map<string, Effect.Effect<ServerKind | undefined>>()
  const served = new Map<string, Effect.Effect<Served | undefined>>()

  const kindAt = (origin: string) =>
    Effect.suspend(() => {
      let cached = kinds.get(origin)
      if (cached === undefined) {
        cached = Effect.runSync(Effect.cached(recogniseAt(client, origin, PROBE_TIMEOUT)))
        kinds.set(origin, cached)
      }
      return cached
    })

  const recognise = (entry: ModelEntry) =>
    Effect.suspend(() => {
      const origin = entry.endpoint.url.origin
      const key = `${origin} ${entry.model}`
      let cached = served.get(key)
      if (cached === undefined) {
        cached = Effect.runSync(Effect.cached(
          Effect.flatMap(kindAt(origin), (kind) =>
            kind === undefined ? Effect.succeed(undefined) : servedBy(client, origin, kind, entry.model, PROBE_TIMEOUT))
        ))
        served.set(key, cached)
      }
      return cached
    })

  const discover = Effect.all(
    LOCAL_SERVERS.map((server) => {
      const origin = `http://127.0.0.1:${server.defaultPort}`
      return recogniseAt(client, origin, DISCOVERY_STEP).pipe(
        Effect.flatMap((kind) =>
          kind === undefined
            ? Effect.succeed(undefined)
            : servedBy(client, origin, kind, "", DISCOVERY_STEP).pipe(
              Effect.map((s): Discovered => ({
                server: serverOfKind(kind),
                baseUrl: `${origin}/v1`,
                models: s.models,
                ...(s.context !== undefined ? { context: s.context } : {})
              }))
            )
        )
      )
    }),
    { concurrency: "unbounded" }
  ).pipe(
    Effect.map((found) => found.filter((d): d is Discovered => d !== undefined && d.models.length > 0)),
    Effect.timeoutOrElse({ duration: DISCOVERY_TIMEOUT, orElse: () => Effect.succeed([]) })
  )

  return LocalServers.of({ recognise, discover })
})

export const layer = Layer.effect(LocalServers, make())
