// OpenTelemetry export over effect/observability's OTLP/HTTP exporters: a span for the command, one per model
// request and per tool call (GenAI semantic conventions), the GenAI metrics, and a log record per request and
// tool call. Loaded only when an endpoint is set. Export never fails nor slows byok beyond FLUSH_BUDGET at exit.
import { Cause, Context, Effect, Exit, Layer, Metric, Option, type Tracer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpExporter, OtlpLogger, OtlpMetrics, OtlpSerialization, OtlpTracer } from "effect/observability"
import { providerExitCode } from "../explain/codes.ts"
import type { LedgerRow } from "../ledger/schema.ts"
import { ProviderError } from "../providers/errors.ts"
import { VERSION } from "../version.ts"
import type { TelemetrySettings } from "./settings.ts"
import { type Interface, type RequestReport, Telemetry, type ToolReport } from "./telemetry.ts"

/** The longest byok waits at exit for its telemetry to go: a dead or hanging collector costs no more. */
export const FLUSH_BUDGET_MS = 1000

/** The GenAI semantic conventions' bucket boundaries (gen_ai.client.token.usage, gen_ai.client.operation.duration). */
const TOKEN_BOUNDARIES = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
const DURATION_BOUNDARIES = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]

const tokenUsage = Metric.histogram("gen_ai.client.token.usage", {
  description: "Tokens used per model request ({token}), by gen_ai.token.type (input or output)",
  boundaries: TOKEN_BOUNDARIES
})
const operationDuration = Metric.histogram("gen_ai.client.operation.duration", {
  description: "Duration of a model request (s)",
  boundaries: DURATION_BOUNDARIES
})
const costUsd = Metric.counter("byok.cost.usd", { description: "What the ledger prices model requests at (USD); unpriced requests add nothing" })
const requests = Metric.counter("byok.requests", { description: "Model requests, by byok.outcome", incremental: true })
const toolCalls = Metric.counter("byok.tool.calls", { description: "Tool calls, by gen_ai.tool.name and byok.outcome", incremental: true })

/** gen_ai.provider.name: the semantic conventions' word for the vendor, from the wire format and the host. */
const HOST_PROVIDERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/(^|\.)openrouter\.ai$/, "openrouter"],
  [/(^|\.)fireworks\.ai$/, "fireworks"],
  [/(^|\.)deepinfra\.com$/, "deepinfra"],
  [/(^|\.)huggingface\.co$|(^|\.)hf\.space$/, "huggingface"],
  [/^generativelanguage\.googleapis\.com$/, "gcp.gemini"],
  [/(^|\.)openai\.com$/, "openai"],
  [/(^|\.)anthropic\.com$/, "anthropic"]
]
export const providerName = (provider: string, host: string): string => {
  const bare = host.replace(/:\d+$/, "").toLowerCase()
  for (const [pattern, name] of HOST_PROVIDERS) if (pattern.test(bare)) return name
  return provider === "anthropic" ? "anthropic" : provider === "openai" ? "openai" : provider
}

const nanos = (ms: number) => BigInt(Math.round(ms)) * 1_000_000n

/** An error as a span status carries it: byok's reason tag and exit code, never server text (nor its stack). */
const failureExit = (tag: string, code: number): Exit.Exit<never, Error> => {
  const error = new Error(`${tag} (byok exit code ${code})`)
  error.name = tag
  error.stack = `${tag}: byok exit code ${code}`
  return Exit.fail(error)
}

/** The reason tag and exit code of a failed request. */
const requestFailure = (cause: Cause.Cause<unknown>, outcome: string) => {
  const error = Cause.findErrorOption(cause)
  const reason = Option.isSome(error) && error.value instanceof ProviderError ? error.value.reason : undefined
  return { tag: reason?._tag ?? outcome, code: reason !== undefined ? providerExitCode(reason) : 1 }
}

const requestAttributes = (row: LedgerRow): Record<string, string | number | boolean> => {
  const input = row.inputUncached + row.cacheRead + row.cacheWrite5m + row.cacheWrite1h
  return {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": providerName(row.provider, row.host),
    "gen_ai.request.model": row.modelId,
    // byok does not read the server's own name for the model: the one it asked for stands for it.
    "gen_ai.response.model": row.modelId,
    "gen_ai.usage.input_tokens": input,
    "gen_ai.usage.output_tokens": row.outputTokens,
    "gen_ai.usage.cache_read.input_tokens": row.cacheRead,
    "gen_ai.usage.cache_creation.input_tokens": row.cacheWrite5m + row.cacheWrite1h,
    "gen_ai.usage.reasoning.output_tokens": row.reasoningTokens,
    "gen_ai.conversation.id": row.conversationId,
    "server.address": row.host.replace(/:\d+$/, ""),
    "byok.model": row.modelName,
    "byok.wire_format": row.provider,
    "byok.outcome": row.outcome,
    "byok.usage.estimated": row.estimated,
    "byok.price_source": row.priceSource,
    ...(row.cost !== undefined ? { "byok.cost.usd": row.cost.total } : {}),
    ...(row.requestId !== undefined ? { "gen_ai.response.id": row.requestId } : {}),
    ...(row.stopReason !== undefined ? { "gen_ai.response.finish_reasons": row.stopReason } : {}),
    ...(row.ttftMs !== undefined ? { "byok.ttft_ms": row.ttftMs } : {})
  }
}

/** Runs a command with telemetry on: its span around it, the exporters' flush (bounded) after it. */
export const around = (
  settings: TelemetrySettings,
  command: string,
  /** The exit code a failure ends byok with (cli/exit.ts, which this layer does not import). */
  exitCodeOf: (cause: Cause.Cause<unknown>) => Effect.Effect<number>
) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const resource = { serviceName: settings.serviceName, serviceVersion: VERSION, attributes: settings.resourceAttributes }
  const common = { resource, headers: settings.headers, shutdownTimeout: "10 millis" as const }
  const layers = Layer.mergeAll(
    OtlpExporter.layerFlusher,
    settings.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf,
    FetchHttpClient.layer
  )
  // A collector that redirects gets no second request (its headers may hold credentials). The client reads this per
  // request, from the fiber: the exporters' own fibers (forked in their make) and the final flush get it.
  const noRedirects = Effect.provideService(FetchHttpClient.RequestInit, { redirect: "error" })
  return Effect.scoped(Effect.gen(function*() {
    const flusher = yield* OtlpExporter.Flusher
    const { traces, metrics, logs } = settings.endpoints
    const tracer: Tracer.Tracer | undefined = traces !== undefined
      ? yield* noRedirects(OtlpTracer.make({ ...common, url: traces, exportInterval: "5 seconds" }))
      : undefined
    if (metrics !== undefined) yield* noRedirects(OtlpMetrics.make({ ...common, url: metrics, exportInterval: "30 seconds" }))
    const logger = logs !== undefined
      ? yield* noRedirects(OtlpLogger.make({ ...common, url: logs, exportInterval: "5 seconds", excludeLogSpans: true }))
      : undefined
    const startedAt = Date.now()
    const root = tracer?.span({
      name: `byok ${command}`,
      parent: Option.none(),
      annotations: Context.empty(),
      links: [],
      startTime: nanos(startedAt),
      kind: "internal",
      root: true,
      sampled: true
    })
    root?.attribute("byok.command", command)
    root?.attribute("byok.version", VERSION)
    let conversationId: string | undefined

    /** A log record through the OTLP logger, in the command's trace, with the attributes as its own. */
    const record = (body: string, attributes: Record<string, unknown>, at: number) =>
      logger === undefined ? Effect.void : Effect.withFiber<void>((fiber) => {
        logger.log({ message: body, logLevel: "Info", cause: Cause.empty, fiber, date: new Date(at) })
        return Effect.void
      }).pipe(Effect.annotateLogs({ ...attributes, "event.name": body, ...(root !== undefined ? { trace_id: root.traceId, span_id: root.spanId } : {}) }))

    const child = (name: string, kind: Tracer.SpanKind, start: number) =>
      tracer?.span({ name, parent: root !== undefined ? Option.some(root) : Option.none(), annotations: Context.empty(), links: [], startTime: nanos(start), kind, root: root === undefined, sampled: true })

    const telemetry: Interface = {
      on: true,
      request: (report: RequestReport) =>
        Effect.suspend(() => {
          const { row } = report
          conversationId ??= row.conversationId
          const attributes: Record<string, unknown> = requestAttributes(row)
          const failed = report.failure !== undefined && row.outcome !== "interrupted" ? requestFailure(report.failure, row.outcome) : undefined
          if (failed !== undefined) {
            attributes["error.type"] = failed.tag
            attributes["byok.error.code"] = failed.code
          }
          if (settings.captureContent) {
            const { input, output } = report.content()
            attributes["gen_ai.input.messages"] = JSON.stringify([{ role: "user", parts: [{ type: "text", content: input }] }])
            attributes["gen_ai.output.messages"] = JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: output }] }])
          }
          const span = child(`chat ${row.modelId}`, "client", row.ts)
          for (const [key, value] of Object.entries(attributes)) span?.attribute(key, value)
          span?.end(nanos(row.ts + row.durationMs), failed !== undefined ? failureExit(failed.tag, failed.code) : Exit.void)
          const base: Record<string, string> = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": providerName(row.provider, row.host),
            "gen_ai.request.model": row.modelId,
            ...(failed !== undefined ? { "error.type": failed.tag } : {})
          }
          const input = attributes["gen_ai.usage.input_tokens"] as number
          return Effect.all([
            Metric.update(Metric.withAttributes(operationDuration, base), row.durationMs / 1000),
            row.outcome === "ok" || input > 0 || row.outputTokens > 0
              ? Effect.all([
                Metric.update(Metric.withAttributes(tokenUsage, { ...base, "gen_ai.token.type": "input" }), input),
                Metric.update(Metric.withAttributes(tokenUsage, { ...base, "gen_ai.token.type": "output" }), row.outputTokens)
              ])
              : Effect.void,
            row.cost !== undefined && row.cost.total > 0
              ? Metric.update(Metric.withAttributes(costUsd, { "gen_ai.request.model": row.modelId, "byok.model": row.modelName }), row.cost.total)
              : Effect.void,
            Metric.update(Metric.withAttributes(requests, { "gen_ai.request.model": row.modelId, "byok.outcome": row.outcome }), 1),
            record("byok.request", attributes, row.ts + row.durationMs)
          ], { discard: true })
        }),
      tool: (report: ToolReport) =>
        Effect.suspend(() => {
          const attributes: Record<string, unknown> = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": report.name,
            "gen_ai.tool.call.id": report.callId,
            "byok.outcome": report.outcome
          }
          if (report.outcome !== "ok") attributes["error.type"] = report.outcome === "refused" ? "ToolRefused" : "ToolError"
          if (settings.captureContent) {
            const { arguments: args, result } = report.content()
            attributes["gen_ai.tool.call.arguments"] = args
            attributes["gen_ai.tool.call.result"] = result
          }
          const span = child(`execute_tool ${report.name}`, "internal", report.startedAt)
          for (const [key, value] of Object.entries(attributes)) span?.attribute(key, value)
          span?.end(
            nanos(report.startedAt + report.durationMs),
            report.outcome === "ok" ? Exit.void : failureExit(attributes["error.type"] as string, report.outcome === "refused" ? 7 : 1)
          )
          return Effect.andThen(
            Metric.update(Metric.withAttributes(toolCalls, { "gen_ai.tool.name": report.name, "byok.outcome": report.outcome }), 1),
            record("byok.tool", attributes, report.startedAt + report.durationMs)
          )
        })
    }

    /** The command's span ends with its exit code; then everything is sent, within the budget. */
    const finish = (exit: Exit.Exit<unknown, unknown>) =>
      Effect.gen(function*() {
        const ended = Date.now()
        let code = Number(process.exitCode ?? 0)
        let tag: string | undefined
        if (Exit.isFailure(exit)) {
          code = yield* exitCodeOf(exit.cause)
          const error = Cause.findErrorOption(exit.cause)
          tag = Cause.hasInterruptsOnly(exit.cause)
            ? "Interrupted"
            : Option.isSome(error) && typeof (error.value as { _tag?: unknown })._tag === "string"
            ? (error.value as { _tag: string })._tag
            : "Error"
        }
        if (root !== undefined) {
          root.attribute("byok.exit_code", code)
          if (conversationId !== undefined) root.attribute("gen_ai.conversation.id", conversationId)
          if (tag !== undefined && code !== 0) root.attribute("error.type", tag)
          root.end(nanos(ended), tag !== undefined && code !== 0 ? failureExit(tag, code) : Exit.void)
        }
        yield* record("byok.command", { "byok.command": command, "byok.exit_code": code, "byok.duration_ms": ended - startedAt }, ended)
        yield* Effect.interruptible(noRedirects(flusher.flush)).pipe(Effect.timeoutOption(FLUSH_BUDGET_MS))
      })

    return yield* effect.pipe(Effect.provideService(Telemetry, telemetry), Effect.onExit(finish))
  }).pipe(Effect.provide(layers))) as Effect.Effect<A, E, R>
}
