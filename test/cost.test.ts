import { describe, expect, test } from "bun:test"
import { costCell, hitRateCell, parseSince, renderReport, requestsLine } from "../src/cli/cost.ts"
import { formatUsd, usdJson } from "../src/cli/render.ts"
import { costOf, hitRate, priceFor, savingsOf } from "../src/ledger/cost.ts"
import { isLocalHostname as isLocalHost } from "../src/lib/net.ts"
import { findPrice, normaliseModelId, PRICE_TABLE } from "../src/ledger/prices.ts"
import { buildRow } from "../src/ledger/record.ts"
import type { Totals } from "../src/ledger/ledger.ts"
import { makeUsage } from "../src/providers/event.ts"
import { makeEntry } from "./lib/provider.ts"

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-12)

describe("cost math", () => {
  test("PROTOCOLS §5 worked example: Sonnet-class, input 6, 5m write 3337, read 6289, output 198", () => {
    const usage = makeUsage({ uncached: 6, cacheWrite: 3337, cacheRead: 6289, output: 198, native: {} })
    const cost = costOf(usage, findPrice("claude-sonnet-4-5", "api.anthropic.com")!)
    close(cost.input, (6 * 3) / 1e6)
    close(cost.cacheWrite, (3337 * 3.75) / 1e6)
    close(cost.cacheRead, (6289 * 0.3) / 1e6)
    close(cost.output, (198 * 15) / 1e6)
    close(cost.total, 17_388.45 / 1e6)
  })

  const cases: ReadonlyArray<{
    name: string
    model: string
    host: string
    usage: Parameters<typeof makeUsage>[0]
    total: number
    savings: number
  }> = [
    {
      name: "Anthropic 1h cache write costs 2× base input",
      model: "claude-opus-4-6",
      host: "api.anthropic.com",
      usage: { uncached: 10, cacheWrite: 1000, cacheWrite1h: 1000, output: 0, native: {} },
      total: (10 * 5 + 1000 * 10) / 1e6,
      savings: -(1000 * (10 - 5)) / 1e6
    },
    {
      name: "Anthropic cache read at 0.1× pays back the write premium",
      model: "claude-haiku-4-5-20251001",
      host: "api.anthropic.com",
      usage: { uncached: 0, cacheRead: 10_000, output: 100, native: {} },
      total: (10_000 * 0.1 + 100 * 5) / 1e6,
      savings: (10_000 * (1 - 0.1)) / 1e6
    },
    {
      name: "OpenAI (Responses): cached input at its own rate, reasoning priced as output",
      model: "gpt-5.1",
      host: "api.openai.com",
      usage: { inclusiveTotal: 2006, cacheRead: 1920, output: 300, reasoning: 64, native: {} },
      total: (86 * 1.25 + 1920 * 0.125 + 300 * 10) / 1e6,
      savings: (1920 * (1.25 - 0.125)) / 1e6
    },
    {
      name: "DeepSeek (Chat Completions): cache hits at the hit price",
      model: "deepseek-chat",
      host: "api.deepseek.com",
      usage: { inclusiveTotal: 374, cacheRead: 256, output: 61, native: {} },
      total: (118 * 0.28 + 256 * 0.028 + 61 * 0.42) / 1e6,
      savings: (256 * (0.28 - 0.028)) / 1e6
    },
    {
      name: "an open model is priced by its host",
      model: "accounts/fireworks/models/gpt-oss-120b",
      host: "api.fireworks.ai",
      usage: { inclusiveTotal: 1000, output: 1000, native: {} },
      total: (1000 * 0.15 + 1000 * 0.6) / 1e6,
      savings: 0
    }
  ]
  for (const c of cases) {
    test(c.name, () => {
      const price = findPrice(c.model, c.host)
      expect(price).toBeDefined()
      const usage = makeUsage(c.usage)
      close(costOf(usage, price!).total, c.total)
      close(savingsOf(usage, price!), c.savings)
    })
  }

  test("hit rate is cache read ÷ total input", () => {
    expect(hitRate(750, 1000)).toBe(0.75)
    expect(hitRate(0, 0)).toBeUndefined()
  })
})

describe("price lookup", () => {
  test("model ids are normalised: providers' prefixes, dates, Claude's dots", () => {
    expect(normaliseModelId("anthropic/claude-sonnet-4.5")).toBe("claude-sonnet-4-5")
    expect(normaliseModelId("claude-sonnet-4-5-20250929")).toBe("claude-sonnet-4-5")
    expect(normaliseModelId("gpt-4.1-2025-04-14")).toBe("gpt-4.1")
    expect(normaliseModelId("accounts/fireworks/models/kimi-k2-instruct")).toBe("kimi-k2-instruct")
    expect(normaliseModelId("llama3.2:latest")).toBe("llama3.2")
  })

  test("a variant is never priced as its base model", () => {
    expect(findPrice("gpt-5-pro", "api.openai.com")).toBeUndefined()
    expect(findPrice("gpt-5-mini", "api.openai.com")?.input).toBe(0.25)
    expect(findPrice("kimi-k2-instruct-0905", "api.fireworks.ai")?.input).toBe(0.6)
  })

  test("host-specific rows apply only on their host", () => {
    expect(findPrice("gpt-oss-120b", "api.deepinfra.com")?.input).toBe(0.09)
    expect(findPrice("gpt-oss-120b", "api.fireworks.ai")?.input).toBe(0.15)
    expect(findPrice("gpt-oss-120b", "some-gpu-host.example")).toBeUndefined()
  })

  test("every table row is dated and sane", () => {
    for (const row of PRICE_TABLE) {
      expect(row.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(row.input).toBeGreaterThan(0)
      expect(row.output).toBeGreaterThan(0)
      if (row.cacheRead !== undefined) expect(row.cacheRead).toBeLessThanOrEqual(row.input)
    }
  })

  test("loopback and private hosts are local; others by table, override, or unpriced", () => {
    for (const h of [
      "localhost", "127.0.0.1", "10.1.2.3", "192.168.1.20", "172.20.0.5", "[::1]", "gpu.local", "169.254.1.1",
      "host.docker.internal", "fd12:3456::1", "fe80::1"
    ]) {
      expect(isLocalHost(h)).toBe(true)
    }
    for (const h of ["api.openai.com", "172.32.0.1", "8.8.8.8"]) expect(isLocalHost(h)).toBe(false)
    const local = makeEntry({ baseUrl: "http://localhost:11434/v1", model: "llama3.2" })
    expect(priceFor(local, undefined).kind).toBe("local")
    const unknown = makeEntry({ baseUrl: "https://inference.example.com/v1", model: "my-finetune" })
    expect(priceFor(unknown, undefined).kind).toBe("unpriced")
    expect(priceFor(unknown, { input: 1, output: 2 })).toEqual({ kind: "config", price: { input: 1, output: 2 } })
    const claude = makeEntry({ baseUrl: "https://api.anthropic.com", model: "claude-sonnet-4-5" })
    expect(priceFor(claude, undefined)).toMatchObject({ kind: "table", asOf: "2026-11-26" })
  })
})

describe("ledger rows", () => {
  const base = {
    conversationId: "c",
    startedAt: 0,
    durationMs: 10,
    ttftMs: 5,
    outcome: "ok",
    stopReason: "end_turn",
    requestId: "req_1"
  }

  test("unpriced is unpriced, never $0", () => {
    const entry = makeEntry({ baseUrl: "https://inference.example.com/v1", model: "mystery" })
    const row = buildRow({ ...base, entry, usage: makeUsage({ uncached: 100, output: 10, native: {} }), price: priceFor(entry, undefined) })
    expect(row.cost).toBeUndefined()
    expect(row.savings).toBeUndefined()
    expect(row.priceSource).toBe("unpriced")
    expect(row.inputUncached).toBe(100)
  })

  test("OpenRouter's usage.cost wins over the table", () => {
    const entry = makeEntry({ baseUrl: "https://openrouter.ai/api/v1", model: "anthropic/claude-sonnet-4.5" })
    const usage = makeUsage({ inclusiveTotal: 5000, cacheRead: 3000, output: 20, native: {}, reportedCost: 0.00123 })
    const row = buildRow({ ...base, entry, usage, price: priceFor(entry, undefined) })
    expect(row.priceSource).toBe("reported")
    expect(row.cost?.total).toBe(0.00123)
  })

  test("local requests cost 0 and say so", () => {
    const entry = makeEntry({ baseUrl: "http://127.0.0.1:8080/v1" })
    const row = buildRow({ ...base, entry, usage: makeUsage({ uncached: 5, output: 5, native: {} }), price: priceFor(entry, undefined) })
    expect(row.priceSource).toBe("local")
    expect(row.cost?.total).toBe(0)
  })

  test("5m and 1h writes are recorded apart; a missing usage is not 'reported'", () => {
    const entry = makeEntry({ baseUrl: "https://api.anthropic.com", model: "claude-sonnet-4-5", provider: "anthropic" })
    const row = buildRow({ ...base, entry, usage: makeUsage({ uncached: 1, cacheWrite: 300, cacheWrite1h: 100, native: {} }), price: priceFor(entry, undefined) })
    expect([row.cacheWrite5m, row.cacheWrite1h]).toEqual([200, 100])
    expect(row.usageReported).toBe(true)
    expect(buildRow({ ...base, entry, usage: undefined, price: priceFor(entry, undefined) }).usageReported).toBe(false)
  })
})

describe("byok cost formatting", () => {
  const totals = (over: Partial<Totals>): Totals => ({
    key: "k", requests: 2, inputUncached: 100, cacheRead: 300, cacheWrite: 100, outputTokens: 10, reasoningTokens: 0,
    cost: 0.5, savings: 0.1, unpriced: 0, local: 0, failed: 0, interrupted: 0, unfinished: 0, estimated: 0, ...over
  })
  test("cells", () => {
    expect(costCell(totals({}))).toBe("$0.50")
    expect(costCell(totals({ unpriced: 1 }))).toBe("$0.50 +1 unpriced")
    expect(costCell(totals({ unpriced: 2 }))).toBe("unpriced")
    expect(costCell(totals({ local: 2 }))).toBe("local")
    expect(hitRateCell(totals({}))).toBe("60.0%")
    expect(formatUsd(12.345)).toBe("$12.35")
  })
  test("--since", () => {
    const now = Date.parse("2026-11-26T12:00:00Z")
    expect(parseSince("24h", now)).toBe(now - 86_400_000)
    expect(parseSince("2w", now)).toBe(now - 14 * 86_400_000)
    expect(parseSince("2026-11-01", now)).toBe(new Date("2026-11-01T00:00:00").getTime())
    expect(parseSince("soon", now)).toBeUndefined()
  })
})

describe("byok cost wording", () => {
  const totals = (over: Partial<Totals>): Totals => ({
    key: "k", requests: 12, inputUncached: 0, cacheRead: 0, cacheWrite: 0, outputTokens: 0, reasoningTokens: 0,
    cost: 0, savings: 0, unpriced: 0, local: 0, failed: 0, interrupted: 0, unfinished: 0, estimated: 0, ...over
  })
  test("one parenthesis for what went wrong", () => {
    expect(requestsLine(totals({ failed: 1, interrupted: 8 }))).toBe("12 requests (1 failed, 8 interrupted)")
    expect(requestsLine(totals({ requests: 1 }))).toBe("1 request")
  })
  test("17. small amounts keep two significant digits (a Sonnet answer is $0.0016, not <$0.01); a dollar and up in cents", () => {
    expect(formatUsd(0.0016)).toBe("$0.0016")
    expect(formatUsd(0.0000108)).toBe("$0.000011")
    expect(formatUsd(0.00012629999999999998)).toBe("$0.00013")
    expect(formatUsd(-0.004)).toBe("-$0.0040")
    expect(formatUsd(0.0165)).toMatch(/^\$0\.01[67]$/)
    expect(formatUsd(0.25)).toBe("$0.25")
    expect(formatUsd(0.999)).toBe("$1.00")
    expect(formatUsd(1234.5)).toBe("$1234.50")
    expect(formatUsd(0)).toBe("$0.00")
  })
  test("17. JSON carries exact decimals: no float noise", () => {
    expect(usdJson(0.00012629999999999998 as number)).toBe(0.0001263)
    expect(usdJson((0.1 + 0.2) as number)).toBe(0.3)
    expect(usdJson(null)).toBeNull()
  })
  test("18. the unpriced line has its plural right", () => {
    expect(renderReport({ total: totals({ requests: 1, unpriced: 1 }), byModel: [], byDay: [], byConversation: [] }, 10)).toContain("1 request is unpriced")
    expect(renderReport({ total: totals({ requests: 3, unpriced: 2 }), byModel: [], byDay: [], byConversation: [] }, 10)).toContain("2 requests are unpriced")
  })
})
