// OpenTelemetry export (issue 28), end to end from the compiled binary: a loopback OTLP/HTTP receiver (JSON and
// protobuf) gets a span per command, model request and tool call, and the GenAI metrics, whose numbers are the
// ledger's; no prompt, answer or key unless content capture is asked for; a collector that never answers costs at
// most the flush budget and never changes the exit code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Server } from "bun"
import { readTelemetry } from "../src/telemetry/settings.ts"
import { byokBinary } from "./lib/binary.ts"
import { runBinary } from "./lib/run.ts"
import { answer } from "./lib/faults.ts"
import { fakeModel, homeWithModels } from "./lib/home.ts"
import { CANARY } from "./lib/provider.ts"
import { scripted } from "./lib/scripted.ts"
import { type FakeServer, startServer } from "./lib/server.ts"

interface Export {
  readonly path: string
  readonly contentType: string
  readonly headers: Record<string, string>
  readonly body: Uint8Array
}

/** A loopback OTLP/HTTP receiver; `hang` makes it take requests and never answer. */
const receiver = (hang = false) => {
  const got: Array<Export> = []
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      got.push({
        path: new URL(req.url).pathname,
        contentType: req.headers.get("content-type") ?? "",
        headers: Object.fromEntries(req.headers.entries()),
        body: new Uint8Array(await req.arrayBuffer())
      })
      if (hang) return new Promise<Response>(() => {})
      return new Response("{}", { headers: { "content-type": "application/json" } })
    }
  })
  return { url: `http://127.0.0.1:${server.port}`, got, stop: () => void server.stop(true) }
}

type KeyValue = { key: string; value: Record<string, unknown> }
type Span = { name: string; parentSpanId?: string; spanId: string; traceId: string; attributes: Array<KeyValue>; status: { code: number; message?: string } }

const value = (v: Record<string, unknown>): unknown => v["stringValue"] ?? v["boolValue"] ?? (v["intValue"] !== undefined ? Number(v["intValue"]) : v["doubleValue"])
const attrs = (list: Array<KeyValue>) => Object.fromEntries(list.map((kv) => [kv.key, value(kv.value)]))
const text = (e: Export) => new TextDecoder().decode(e.body)
const spansOf = (got: ReadonlyArray<Export>): Array<Span> =>
  got.filter((e) => e.path === "/v1/traces").flatMap((e) =>
    (JSON.parse(text(e)) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Span> }> }> }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
  )
/** The last metrics export's points of a metric, as attribute maps with their histogram sum or counter value. */
const pointsOf = (got: ReadonlyArray<Export>, name: string): Array<Record<string, unknown>> => {
  const last = got.filter((e) => e.path === "/v1/metrics").at(-1)
  if (last === undefined) return []
  const doc = JSON.parse(text(last)) as {
    resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string; histogram?: { dataPoints: Array<{ attributes: Array<KeyValue>; sum: number; count: number }> }; sum?: { dataPoints: Array<{ attributes: Array<KeyValue>; asDouble?: number; asInt?: number }> } }> }> }>
  }
  const metric = doc.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)).find((m) => m.name === name)
  if (metric === undefined) return []
  return metric.histogram !== undefined
    ? metric.histogram.dataPoints.map((p) => ({ ...attrs(p.attributes), value: p.sum, count: p.count }))
    : (metric.sum?.dataPoints ?? []).map((p) => ({ ...attrs(p.attributes), value: p.asDouble ?? Number(p.asInt) }))
}

let bin: string
let model: FakeServer
let root: string

beforeAll(() => {
  bin = byokBinary()
  model = startServer()
  root = mkdtempSync(join(tmpdir(), "byok-otel-"))
}, 60_000)

afterAll(() => {
  model?.stop()
  rmSync(root, { recursive: true, force: true })
})

const PROMPT = "the secret plan is pineapple"
const ANSWER = ["mango ", "reply"]

const run = async (args: ReadonlyArray<string>, home: string, env: Record<string, string>) => {
  const started = performance.now()
  const result = await runBinary(bin, args, { HOME: home, BYOK_HOME: join(home, "data"), BYOK_MAX_RETRIES: "0", ...env }, undefined, root)
  return { ...result, ms: performance.now() - started }
}

/** One priced Anthropic model (so the ledger has a cost to compare), on the fake server. */
const home = (settings: Record<string, unknown> = {}) =>
  homeWithModels([fakeModel("Claude", "anthropic", "claude-sonnet-4-5", model.url, { extraHeaders: { "x-team-secret": "hdr-secret-0123456789" } })], settings)

describe("OpenTelemetry export", () => {
  test("http/json: spans for the command and the request, metrics, logs; numbers as in the ledger; no content, no key", async () => {
    model.handle(() => new Response(answer("anthropic", ANSWER), { headers: { "content-type": "text/event-stream" } }))
    const otlp = receiver()
    try {
      // A price, so that the loopback model (else "local", free) has a cost to compare: $3 and $15 a million.
      const h = home({ prices: { Claude: { input: 3, output: 15 } } })
      const r = await run(["exec", PROMPT], h, {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20collector-token-0123456789",
        OTEL_RESOURCE_ATTRIBUTES: "team=infra,service.name=byok-ci"
      })
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("mango reply\n")
      expect(r.stderr).toBe("")
      expect(new Set(otlp.got.map((e) => e.path))).toEqual(new Set(["/v1/traces", "/v1/metrics", "/v1/logs"]))
      expect(otlp.got.every((e) => e.contentType.includes("json"))).toBe(true)
      expect(otlp.got[0]!.headers["authorization"]).toBe("Bearer collector-token-0123456789")

      const spans = spansOf(otlp.got)
      const command = spans.find((s) => s.name === "byok exec")!
      const request = spans.find((s) => s.name === "chat claude-sonnet-4-5")!
      expect(command).toBeDefined()
      expect(request.parentSpanId).toBe(command.spanId)
      expect(request.traceId).toBe(command.traceId)
      expect(attrs(command.attributes)["byok.exit_code"]).toBe(0)

      const ledger = (await run(["cost", "--json"], h, {})).stdout
      const a = attrs(request.attributes)
      expect(a["gen_ai.operation.name"]).toBe("chat")
      expect(a["gen_ai.provider.name"]).toBe("anthropic")
      expect(a["gen_ai.request.model"]).toBe("claude-sonnet-4-5")
      expect(a["gen_ai.usage.input_tokens"]).toBe(7)
      expect(a["gen_ai.usage.output_tokens"]).toBe(3)
      expect(a["byok.outcome"]).toBe("ok")
      expect(a["gen_ai.conversation.id"]).toBe(attrs(command.attributes)["gen_ai.conversation.id"])
      expect(a["byok.cost.usd"]).toBeCloseTo(7 * 3e-6 + 3 * 15e-6, 12)
      expect(ledger).toContain(String(a["byok.cost.usd"]))

      const tokens = pointsOf(otlp.got, "gen_ai.client.token.usage")
      expect(tokens.find((p) => p["gen_ai.token.type"] === "input")?.value).toBe(7)
      expect(tokens.find((p) => p["gen_ai.token.type"] === "output")?.value).toBe(3)
      expect(pointsOf(otlp.got, "gen_ai.client.operation.duration")[0]?.count).toBe(1)
      expect(pointsOf(otlp.got, "byok.cost.usd")[0]?.value).toBeCloseTo(a["byok.cost.usd"] as number, 12)
      expect(pointsOf(otlp.got, "byok.requests")[0]).toMatchObject({ "byok.outcome": "ok", value: 1 })

      const all = otlp.got.map(text).join("\n")
      expect(all).toContain('"byok-ci"')
      expect(all).toContain('"team"')
      for (const secret of [CANARY, "hdr-secret-0123456789", "collector-token-0123456789", "pineapple", "mango"]) expect(all).not.toContain(secret)
    } finally {
      otlp.stop()
    }
  }, 60_000)

  test("http/protobuf (the default): the same spans, as protobuf", async () => {
    model.handle(() => new Response(answer("anthropic", ANSWER), { headers: { "content-type": "text/event-stream" } }))
    const otlp = receiver()
    try {
      const r = await run(["exec", PROMPT], home(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/custom/traces` })
      expect(r.code).toBe(0)
      // Only traces: their own endpoint, used as written.
      expect(otlp.got.map((e) => e.path)).toEqual(["/custom/traces"])
      expect(otlp.got[0]!.contentType).toBe("application/x-protobuf")
      const bytes = Buffer.from(otlp.got[0]!.body).toString("latin1")
      for (const s of ["byok exec", "chat claude-sonnet-4-5", "gen_ai.usage.input_tokens", "gen_ai.request.model"]) expect(bytes).toContain(s)
      expect(bytes).not.toContain(CANARY)
    } finally {
      otlp.stop()
    }
  }, 60_000)

  test("content only when asked: the prompt, the answer, a tool call's arguments and result, redacted", async () => {
    writeFileSync(join(root, "notes.txt"), `key ${CANARY} in a file\n`)
    const script = scripted("anthropic", [{ name: "Read", args: { file_path: join(root, "notes.txt") } }], "done reading")
    model.handle(script.handler)
    const otlp = receiver()
    try {
      const r = await run(["exec", "--auto", "low", PROMPT], home(), {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "true"
      })
      expect(r.code).toBe(0)
      const spans = spansOf(otlp.got)
      const tool = spans.find((s) => s.name === "execute_tool Read")!
      expect(tool).toBeDefined()
      const t = attrs(tool.attributes)
      expect(t["gen_ai.tool.name"]).toBe("Read")
      expect(t["byok.outcome"]).toBe("ok")
      expect(String(t["gen_ai.tool.call.arguments"])).toContain("notes.txt")
      expect(String(t["gen_ai.tool.call.result"])).toContain("in a file")
      const requests = spans.filter((s) => s.name.startsWith("chat "))
      expect(requests.length).toBe(2)
      expect(String(attrs(requests[0]!.attributes)["gen_ai.input.messages"])).toContain("pineapple")
      expect(String(attrs(requests[1]!.attributes)["gen_ai.output.messages"])).toContain("done reading")
      expect(pointsOf(otlp.got, "byok.tool.calls")[0]).toMatchObject({ "gen_ai.tool.name": "Read", value: 1 })
      expect(otlp.got.map(text).join("\n")).not.toContain(CANARY)
    } finally {
      otlp.stop()
    }
  }, 60_000)

  test("a failed request: error status with byok's reason and exit code; the exit code stands", async () => {
    model.handle(() => new Response(JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: `slow down ${CANARY}` } }), { status: 429, headers: { "content-type": "application/json" } }))
    const otlp = receiver()
    try {
      const r = await run(["exec", PROMPT], home(), { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })
      expect(r.code).toBe(4)
      const spans = spansOf(otlp.got)
      const request = spans.find((s) => s.name.startsWith("chat "))!
      expect(request.status.code).toBe(2)
      expect(attrs(request.attributes)["error.type"]).toBe("RateLimitError")
      expect(attrs(request.attributes)["byok.error.code"]).toBe(4)
      const command = spans.find((s) => s.name === "byok exec")!
      expect(attrs(command.attributes)["byok.exit_code"]).toBe(4)
      expect(command.status.code).toBe(2)
      const all = otlp.got.map(text).join("\n")
      expect(all).not.toContain("slow down")
      expect(all).not.toContain(CANARY)
    } finally {
      otlp.stop()
    }
  }, 60_000)

  test("a collector that never answers, or is not there, costs at most the flush budget and changes nothing", async () => {
    model.handle(() => new Response(answer("anthropic", ANSWER), { headers: { "content-type": "text/event-stream" } }))
    const hung = receiver(true)
    try {
      const h = home()
      const base = await run(["exec", PROMPT], h, {})
      const hanging = await run(["exec", PROMPT], h, { OTEL_EXPORTER_OTLP_ENDPOINT: hung.url })
      const dead = await run(["exec", PROMPT], h, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" })
      for (const r of [hanging, dead]) {
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(base.stdout)
        expect(r.stderr).toBe("")
        // The budget is 1 s; the rest is generous room for a loaded machine (the bench measures it).
        expect(r.ms).toBeLessThan(base.ms + 4000)
      }
      expect(hung.got.length).toBeGreaterThan(0)
    } finally {
      hung.stop()
    }
  }, 60_000)

  test("settings.json's telemetry; an unusable protocol is said, and nothing is sent", async () => {
    model.handle(() => new Response(answer("anthropic", ANSWER), { headers: { "content-type": "text/event-stream" } }))
    const otlp = receiver()
    try {
      const h = home({ telemetry: { endpoint: otlp.url, protocol: "http/json", serviceName: "from-settings", headers: { "x-key": "settings-header-0123456789" } } })
      const r = await run(["exec", PROMPT], h, {})
      expect(r.code).toBe(0)
      const all = otlp.got.map(text).join("\n")
      expect(all).toContain("from-settings")
      expect(otlp.got[0]!.headers["x-key"]).toBe("settings-header-0123456789")
      const grpc = await run(["exec", PROMPT], home(), { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })
      expect(grpc.code).toBe(0)
      expect(grpc.stderr).toContain('the OTLP protocol "grpc" is not one byok sends')
    } finally {
      otlp.stop()
    }
  }, 60_000)
})

describe("byok doctor and telemetry", () => {
  test("each endpoint is sent an empty export: accepted, or the failure with its fix and exit 5", async () => {
    model.handle(() => new Response(answer("anthropic", ANSWER), { headers: { "content-type": "text/event-stream" } }))
    const otlp = receiver()
    try {
      const ok = await run(["doctor", "-m", "Claude"], home(), { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_METRICS_EXPORTER: "none", OTEL_LOGS_EXPORTER: "none" })
      expect(ok.stdout).toMatch(/traces\s+traces → http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(http\/protobuf\): accepted in \d+ ms/)
      expect(otlp.got.some((e) => e.path === "/v1/traces" && e.body.length === 0)).toBe(true)
      const dead = await run(["doctor", "-m", "Claude"], home(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:9/v1/traces" })
      expect(dead.code).toBe(5)
      expect(dead.stdout).toContain("traces → http://127.0.0.1:9/v1/traces (http/protobuf): cannot connect")
      expect(dead.stdout).toContain("fix: start the collector")
    } finally {
      otlp.stop()
    }
  }, 60_000)
})

describe("readTelemetry", () => {
  test("off without an endpoint; OTEL_SDK_DISABLED and OTEL_<SIGNAL>_EXPORTER=none turn it off", () => {
    expect(readTelemetry({}, undefined).settings).toBeUndefined()
    expect(readTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" }, undefined).settings).toBeUndefined()
    const some = readTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/base/", OTEL_METRICS_EXPORTER: "none" }, undefined).settings!
    expect(some.endpoints).toEqual({ traces: "http://c:4318/base/v1/traces", logs: "http://c:4318/base/v1/logs" })
    expect(some.protocol).toBe("http/protobuf")
    expect(some.serviceName).toBe("byok")
  })

  test("the variables win over the settings; a signal's own endpoint is used as written", () => {
    const read = readTelemetry(
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://t.example/x", OTEL_SERVICE_NAME: "env" },
      { endpoint: "http://s:4318", serviceName: "file", captureContent: true },
      "settings.json"
    ).settings!
    expect(read.endpoints).toEqual({ traces: "https://t.example/x", metrics: "http://s:4318/v1/metrics", logs: "http://s:4318/v1/logs" })
    expect(read.serviceName).toBe("env")
    expect(read.captureContent).toBe(true)
    expect(readTelemetry({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "false" }, { endpoint: "http://s", captureContent: true }).settings!.captureContent).toBe(false)
  })

  test("problems name the variable or field; a header list's value is never quoted", () => {
    const bad = readTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, undefined)
    expect(bad.settings).toBeUndefined()
    expect(bad.problems[0]).toContain("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL")
    const headers = readTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_HEADERS: "secret-token-no-equals" }, undefined)
    expect(headers.problems.join("\n")).toContain("OTEL_EXPORTER_OTLP_HEADERS must be a list")
    expect(headers.problems.join("\n")).not.toContain("secret-token")
    expect(readTelemetry({}, { endpoint: 5 }, "/h/settings.json").problems[0]).toContain("telemetry.endpoint in /h/settings.json")
    const withPassword = readTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://user:pw-0123456789@collector/" }, undefined).problems.join("\n")
    expect(withPassword).toContain("ftp://***@collector/")
    expect(withPassword).not.toContain("pw-0123456789")
  })
})
