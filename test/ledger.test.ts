import { Database } from "bun:sqlite"
import { describe, expect, test } from "bun:test"
import { Effect, Result } from "effect"
import fc from "fast-check"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { explainStoreWarning } from "../src/explain/store.ts"
import { make } from "../src/ledger/ledger.ts"
import { localDay, SCHEMA_VERSION } from "../src/ledger/schema.ts"
import { sampleRow } from "./lib/rows.ts"

const fresh = () => join(mkdtempSync(join(tmpdir(), "byok-ledger-")), "sub", "ledger.db")
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.result(e))
const count = (path: string) => {
  const db = new Database(path, { readonly: true })
  try {
    return (db.query("SELECT COUNT(*) AS n FROM requests").get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe("CostLedger", () => {
  test("a row's day is the local day of its start, in any time zone (SQLite works it out, as JavaScript would)", () => {
    // Times either side of midnight in the zones below, and across a daylight-saving change.
    const times = ["2026-11-20T23:30:00Z", "2026-11-20T04:45:00Z", "2026-03-08T06:59:59Z", "2026-11-20T12:15:00Z"].map(Date.parse)
    const zones = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati", "America/St_Johns", "Pacific/Pago_Pago"]
    const days = new Set<string>()
    for (const zone of zones) {
      const run = Bun.spawnSync([process.execPath, join(import.meta.dir, "lib", "ledger-day.ts"), fresh(), ...times.map(String)], {
        env: { ...process.env, TZ: zone },
        stdout: "pipe",
        stderr: "pipe"
      })
      expect(run.stderr.toString()).toBe("")
      const rows = JSON.parse(run.stdout.toString()) as Array<{ stored: string; local: string }>
      expect(rows).toHaveLength(times.length)
      for (const r of rows) {
        expect(r.stored).toBe(r.local)
        days.add(`${zone} ${r.stored}`)
      }
    }
    // The zones do put the same instants on different days (else the test would prove nothing).
    expect(new Set([...days].filter((d) => d.includes("2026-11-19"))).size).toBeGreaterThan(0)
    expect(new Set([...days].filter((d) => d.includes("2026-11-21"))).size).toBeGreaterThan(0)
  })

  test("creates the directory and the file, in WAL mode, at the current schema version", async () => {
    const path = fresh()
    const ledger = make(path)
    expect(Result.isSuccess(await run(ledger.record(sampleRow())))).toBe(true)
    const db = new Database(path, { readonly: true })
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" })
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: SCHEMA_VERSION })
  })

  test("round trip: totals, by model, by day, by conversation, filters", async () => {
    const ledger = make(fresh())
    await run(ledger.record(sampleRow()))
    await run(ledger.record(sampleRow({ conversationId: "conv-b", ts: Date.parse("2026-11-21T10:00:00Z") })))
    await run(ledger.record(sampleRow({
      modelName: "Llama",
      modelId: "llama3.2",
      host: "localhost:11434",
      cost: { input: 0, cacheRead: 0, cacheWrite: 0, output: 0, total: 0 },
      savings: 0,
      priceSource: "local",
      cacheRead: 0
    })))
    await run(ledger.record(sampleRow({ modelName: "Mystery", modelId: "m", cost: undefined, savings: undefined, priceSource: "unpriced", outcome: "RateLimitError" })))
    await run(ledger.record(sampleRow({ outcome: "interrupted" })))
    const result = await run(ledger.report({}))
    if (Result.isFailure(result)) throw result.failure
    const report = result.success
    expect(report.total).toMatchObject({ requests: 5, inputUncached: 500, cacheRead: 3600, cacheWrite: 250, outputTokens: 200, unpriced: 1, local: 1, failed: 1, interrupted: 1 })
    expect(report.total.cost).toBeCloseTo(0.0013575 * 3, 12)
    expect(report.byModel.map((m) => [m.key, m.requests])).toEqual([["Claude Sonnet", 3], ["Llama", 1], ["Mystery", 1]])
    expect(report.byDay.map((d) => d.requests).reduce((a, b) => a + b)).toBe(5)
    expect(report.byConversation.map((c) => c.key).sort()).toEqual(["conv-a", "conv-b"])
    const since = await run(ledger.report({ since: Date.parse("2026-11-21T00:00:00Z") }))
    expect(Result.isSuccess(since) && since.success.total.requests).toBe(1)
    const model = await run(ledger.report({ model: "llama3.2" }))
    expect(Result.isSuccess(model) && model.success.total.requests).toBe(1)
  })

  test("property: the report (rollup + partial day) equals a brute-force sum over the raw rows", async () => {
    const day0 = Date.parse("2026-11-20T00:00:00")
    const rowArb = fc.record({
      ts: fc.integer({ min: day0, max: day0 + 4 * 86_400_000 }),
      model: fc.constantFrom("A", "B", "C"),
      uncached: fc.nat(1000),
      read: fc.nat(1000),
      out: fc.nat(500),
      cost: fc.option(fc.integer({ min: 0, max: 1000 }).map((c) => c / 1000), { nil: undefined }),
      outcome: fc.constantFrom("ok", "ok", "interrupted", "RateLimitError"),
      conv: fc.constantFrom("c1", "c2", "c3", "c4"),
      // Written once; begun as "running" and completed (the update trigger); or begun and never completed (killed).
      life: fc.constantFrom("direct", "completed", "killed")
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 25 }),
        fc.option(fc.integer({ min: day0 - 86_400_000, max: day0 + 5 * 86_400_000 }), { nil: undefined }),
        fc.option(fc.constantFrom("A", "B"), { nil: undefined }),
        async (rows, since, model) => {
          const ledger = make(fresh())
          for (const r of rows) {
            const row = sampleRow({
              ts: r.ts,
              modelName: r.model,
              modelId: r.model.toLowerCase(),
              conversationId: r.conv,
              inputUncached: r.uncached,
              cacheRead: r.read,
              outputTokens: r.out,
              cost: r.cost === undefined ? undefined : { input: null, cacheRead: null, cacheWrite: null, output: null, total: r.cost },
              priceSource: r.cost === undefined ? "unpriced" : "table 2026-11-26",
              outcome: r.life === "killed" ? "running" : r.outcome
            })
            if (r.life === "direct") await run(ledger.record(row))
            else {
              const id = await Effect.runPromise(ledger.begin({ ...row, inputUncached: 0, cacheRead: 0, cost: undefined, outcome: "running" }))
              if (r.life === "killed") await Effect.runPromise(ledger.progress(id!, row))
              else await run(ledger.record(row, id))
            }
          }
          const result = await run(ledger.report({ since, model, conversations: 100 }))
          if (Result.isFailure(result)) throw result.failure
          const report = result.success
          const kept = rows.filter((r) => (since === undefined || r.ts >= since) && (model === undefined || r.model === model))
          const sum = (xs: typeof kept) => ({
            requests: xs.length,
            inputUncached: xs.reduce((a, r) => a + r.uncached, 0),
            cacheRead: xs.reduce((a, r) => a + r.read, 0),
            unpriced: xs.filter((r) => r.cost === undefined).length,
            interrupted: xs.filter((r) => r.life !== "killed" && r.outcome === "interrupted").length,
            failed: xs.filter((r) => r.life !== "killed" && r.outcome === "RateLimitError").length,
            unfinished: xs.filter((r) => r.life === "killed").length
          })
          expect(report.total).toMatchObject(sum(kept))
          expect(report.total.cost).toBeCloseTo(kept.reduce((a, r) => a + (r.cost ?? 0), 0), 9)
          for (const m of report.byModel) expect(m).toMatchObject(sum(kept.filter((r) => r.model === m.key)))
          expect(report.byModel.map((m) => m.key).sort()).toEqual([...new Set(kept.map((r) => r.model))].sort())
          for (const d of report.byDay) expect(d).toMatchObject(sum(kept.filter((r) => localDay(r.ts) === d.key)))
          for (const c of report.byConversation) expect(c).toMatchObject(sum(kept.filter((r) => r.conv === c.key)))
          expect(report.byConversation.map((c) => c.key).sort()).toEqual([...new Set(kept.map((r) => r.conv))].sort())
        }
      ),
      { numRuns: 60 }
    )
  })

  test("never a key: the file holds no header or key, whatever is recorded", async () => {
    const path = fresh()
    const ledger = make(path)
    await run(ledger.record(sampleRow()))
    const bytes = readFileSync(path).toString("latin1") + readFileSync(`${path}-wal`).toString("latin1")
    expect(bytes).not.toMatch(/sk-|api[_-]?key|authorization|bearer/i)
  })

  test("two processes writing 500 rows each at once lose no row", async () => {
    const path = fresh()
    await run(make(path).record(sampleRow({ conversationId: "seed" })))
    const writer = join(import.meta.dir, "lib", "ledger-writer.ts")
    const procs = ["a", "b"].map((tag) =>
      Bun.spawn([process.execPath, writer, path, "500", tag], { stdout: "pipe", stderr: "pipe" })
    )
    const codes = await Promise.all(procs.map((p) => p.exited))
    for (const p of procs) if (p.exitCode !== 0) console.error(await new Response(p.stderr).text())
    expect(codes).toEqual([0, 0])
    const db = new Database(path, { readonly: true })
    expect(db.query("SELECT COUNT(*) AS n FROM requests WHERE conversation_id != 'seed'").get()).toEqual({ n: 1000 })
    expect(db.query("SELECT COUNT(DISTINCT conversation_id) AS n FROM requests").get()).toEqual({ n: 1001 })
  }, 30_000)

  test("a corrupt file is a LedgerError(corrupt) whose message says to move it aside", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "byok-ledger-")), "ledger.db")
    writeFileSync(path, "definitely not sqlite ".repeat(300))
    const result = await run(make(path).record(sampleRow()))
    expect(Result.isFailure(result)).toBe(true)
    if (Result.isFailure(result)) {
      expect(result.failure.kind).toBe("corrupt")
      expect(explainStoreWarning(result.failure, "not recorded in")).toContain(`move ${path} aside`)
    }
  })

  test("a locked file keeps the row (after a short wait); flush writes it once the lock is gone", async () => {
    const path = fresh()
    await run(make(path).record(sampleRow()))
    const ledger = make(path, 300)
    const holder = new Database(path)
    holder.run("BEGIN EXCLUSIVE")
    try {
      const started = Date.now()
      expect(await run(ledger.record(sampleRow()))).toEqual(Result.succeed("deferred"))
      expect(Date.now() - started).toBeLessThan(280)
      // The ordinary wait runs out while the lock is still held: the row stays kept, not dropped.
      expect(await run(ledger.flush)).toEqual(Result.succeed(1))
    } finally {
      holder.run("ROLLBACK")
      holder.close()
    }
    expect(await run(ledger.flush)).toEqual(Result.succeed(0))
    expect(count(path)).toBe(2)
  }, 10_000)

  test("a file from a newer byok is refused, not rewritten", async () => {
    const path = fresh()
    await run(make(path).record(sampleRow()))
    const db = new Database(path)
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const result = await run(make(path).record(sampleRow()))
    expect(Result.isFailure(result) && result.failure.kind).toBe("newer")
  })
})
