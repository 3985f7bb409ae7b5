// The CostLedger service: every request on record in a SQLite file (bun:sqlite, WAL) in the user's data directory
// ($BYOK_HOME, else $XDG_DATA_HOME/byok, else ~/.local/share/byok). Opened on first use, so commands that do not
// touch it pay nothing. Several byok processes may write at once: WAL plus a busy timeout serialise them.
// The write policy is the ledger's own: a row waits only briefly for a lock, and one that a busy ledger refused is
// kept and written before the next one, or at the latest when the layer closes, with the ordinary wait.
import type { SQLQueryBindings } from "bun:sqlite"
import { Context, Effect, Layer } from "effect"
import {
  dataPlace,
  DEFAULT_BUSY_TIMEOUT_MS,
  lazyDatabase,
  openDatabase,
  SHORT_BUSY_TIMEOUT_MS,
  type StoreError
} from "../lib/sqlite.ts"
import { type PriceSource, sourceLabel } from "./cost.ts"
import { type LedgerRow, localDay, MIGRATIONS } from "./schema.ts"

/** The ledger's failures are the store's: locked, read-only, corrupt, newer, other. */
export type LedgerError = StoreError

/** Totals for one group (a model, a day, a conversation) or for everything. */
export interface Totals {
  readonly key: string
  readonly requests: number
  readonly inputUncached: number
  readonly cacheRead: number
  readonly cacheWrite: number
  readonly outputTokens: number
  readonly reasoningTokens: number
  /** Dollars over the priced requests. */
  readonly cost: number
  readonly savings: number
  readonly unpriced: number
  readonly local: number
  readonly failed: number
  readonly interrupted: number
  /** Requests whose byok process ended before they did (killed): their usage is what was known then. */
  readonly unfinished: number
  /** Requests whose counts byok estimated: the figures are approximate (marked ~). */
  readonly estimated: number
}

export interface ReportQuery {
  /** Only requests at or after this time (ms). */
  readonly since?: number | undefined
  /** Only this model (display name or model id). */
  readonly model?: string | undefined
  /** Totals for this conversation only (the model and day tables stay unfiltered). */
  readonly conversation?: string | undefined
  /** How many of the most recent conversations to list (default 10). */
  readonly conversations?: number | undefined
}

export interface Report {
  readonly total: Totals
  readonly byModel: ReadonlyArray<Totals>
  readonly byDay: ReadonlyArray<Totals>
  readonly byConversation: ReadonlyArray<Totals>
}

/**
 * What became of a row: written; kept because another process held the ledger (written later); not recorded
 * because recording is off (BYOK_NO_RECORD) or there is nowhere to record it (no HOME, no BYOK_HOME).
 */
export type Recorded = "written" | "deferred" | "off" | "nowhere"

/** A row written when its request started, to be completed when it ends. */
export type RowId = number

export interface Interface {
  readonly path: string
  /**
   * Writes a row for a request that is starting (outcome "running"), so that it is on record even if byok is
   * killed; undefined when the ledger cannot take it now. Never fails: `record` reports problems.
   */
  readonly begin: (row: LedgerRow) => Effect.Effect<RowId | undefined>
  /** Brings a running row up to date (usage known part-way); a best effort. */
  readonly progress: (id: RowId, row: LedgerRow) => Effect.Effect<void>
  /**
   * Writes a request's row (completing its running row when given), after any rows kept earlier, waiting only
   * briefly for a lock: a locked ledger keeps the row for later ("deferred"). Other failures (read-only, damaged)
   * are errors, and the row is not kept.
   */
  readonly record: (row: LedgerRow, id?: RowId) => Effect.Effect<Recorded, LedgerError>
  /** Writes the kept rows with the ordinary wait; succeeds with how many are still unwritten. */
  readonly flush: Effect.Effect<number, LedgerError>
  readonly report: (query: ReportQuery) => Effect.Effect<Report, LedgerError>
  /**
   * Prices the rows that were unpriced when written, where a price is known now (the user added one to byok's own
   * file, or a newer byok's table has one): their cost columns are filled in and the rollup follows. Writes only
   * when there is such a row; creates nothing. How many rows it priced.
   */
  readonly reprice: (priceOf: (modelName: string, modelId: string, host: string) => PriceSource) => Effect.Effect<number, LedgerError>
}

export class CostLedger extends Context.Service<CostLedger, Interface>()("byok/CostLedger") {}

/** Opens (creating if needed) and migrates the ledger file. */
export const openLedger = (path: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS) =>
  openDatabase(path, MIGRATIONS, busyTimeoutMs)

const COLUMNS = `ts, day, conversation_id, model_name, provider, model_id, host,
  input_uncached, cache_read, cache_write_5m, cache_write_1h, output_tokens, reasoning_tokens, usage_reported,
  cost_input, cost_cache_read, cost_cache_write, cost_output, cost_total, savings, price_source,
  request_id, duration_ms, ttft_ms, outcome, stop_reason, estimated`
/**
 * The day is the local calendar day of `ts`, worked out by SQLite from the C library's time zone: the first local
 * date in JavaScript loads ICU's time zone data, about 4 ms of every exec (bench/modules.ts, a compiled probe).
 */
const VALUES = `(?, date(? / 1000, 'unixepoch', 'localtime'), ${Array.from({ length: 25 }, () => "?").join(", ")})`
const INSERT = `INSERT INTO requests (${COLUMNS}) VALUES ${VALUES} RETURNING id`
const UPDATE = `UPDATE requests SET (${COLUMNS}) = ${VALUES} WHERE id = ?`

const bindings = (row: LedgerRow): Array<SQLQueryBindings> => [
  row.ts,
  row.ts,
  row.conversationId,
  row.modelName,
  row.provider,
  row.modelId,
  row.host,
  row.inputUncached,
  row.cacheRead,
  row.cacheWrite5m,
  row.cacheWrite1h,
  row.outputTokens,
  row.reasoningTokens,
  row.usageReported ? 1 : 0,
  row.cost?.input ?? null,
  row.cost?.cacheRead ?? null,
  row.cost?.cacheWrite ?? null,
  row.cost?.output ?? null,
  row.cost?.total ?? null,
  row.savings ?? null,
  row.priceSource,
  row.requestId ?? null,
  Math.round(row.durationMs),
  row.ttftMs === undefined ? null : Math.round(row.ttftMs),
  row.outcome,
  row.stopReason ?? null,
  row.estimated ? 1 : 0
]

/** Sums over raw request rows, in the rollup's column names. */
const ROW_SUMS = `COUNT(*) AS requests,
  COALESCE(SUM(input_uncached), 0) AS inputUncached,
  COALESCE(SUM(cache_read), 0) AS cacheRead,
  COALESCE(SUM(cache_write_5m + cache_write_1h), 0) AS cacheWrite,
  COALESCE(SUM(output_tokens), 0) AS outputTokens,
  COALESCE(SUM(reasoning_tokens), 0) AS reasoningTokens,
  COALESCE(SUM(cost_total), 0) AS cost,
  COALESCE(SUM(savings), 0) AS savings,
  COALESCE(SUM(price_source = 'unpriced'), 0) AS unpriced,
  COALESCE(SUM(price_source = 'local'), 0) AS local,
  COALESCE(SUM(outcome NOT IN ('ok', 'interrupted', 'running')), 0) AS failed,
  COALESCE(SUM(outcome = 'interrupted'), 0) AS interrupted,
  COALESCE(SUM(outcome = 'running'), 0) AS unfinished,
  COALESCE(SUM(estimated), 0) AS estimated`

/** The same sums over rollup rows. */
const ROLLUP_SUMS = `SUM(requests) AS requests, SUM(input_uncached) AS inputUncached, SUM(cache_read) AS cacheRead,
  SUM(cache_write) AS cacheWrite, SUM(output_tokens) AS outputTokens, SUM(reasoning_tokens) AS reasoningTokens,
  SUM(cost) AS cost, SUM(savings) AS savings, SUM(unpriced) AS unpriced, SUM(local) AS local, SUM(failed) AS failed,
  SUM(interrupted) AS interrupted, SUM(unfinished) AS unfinished, SUM(estimated) AS estimated`

const NUMERIC: ReadonlyArray<keyof Totals> = [
  "requests", "inputUncached", "cacheRead", "cacheWrite", "outputTokens", "reasoningTokens", "cost", "savings",
  "unpriced", "local", "failed", "interrupted", "unfinished", "estimated"
]

const emptyTotals = (key: string): Totals => ({
  key, requests: 0, inputUncached: 0, cacheRead: 0, cacheWrite: 0, outputTokens: 0, reasoningTokens: 0, cost: 0,
  savings: 0, unpriced: 0, local: 0, failed: 0, interrupted: 0, unfinished: 0, estimated: 0
})

/** Adds grouped rows into totals by key (the rollup and a partial day's raw rows may share keys). */
const mergeInto = (into: Map<string, Totals>, rows: ReadonlyArray<Totals>) => {
  for (const row of rows) {
    const prev = into.get(String(row.key)) ?? emptyTotals(String(row.key))
    const next: Record<string, unknown> = { key: String(row.key) }
    for (const k of NUMERIC) next[k] = (prev[k] as number) + ((row[k] as number | null) ?? 0)
    into.set(String(row.key), next as unknown as Totals)
  }
  return into
}

/** What a ledger that does not exist yet says: no requests. */
const EMPTY_REPORT: Report = { total: emptyTotals("total"), byModel: [], byDay: [], byConversation: [] }

const sumAll = (rows: Iterable<Totals>): Totals => mergeInto(new Map(), [...rows].map((r) => ({ ...r, key: "total" }))).get("total") ?? emptyTotals("total")

export const make = (path: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Interface & { readonly close: Effect.Effect<void> } => {
  // Reading (report) creates no file and needs no write access: see lazyDatabase.
  const { use, read, close } = lazyDatabase(path, MIGRATIONS, busyTimeoutMs)
  /** Rows to write (or running rows to complete, by id) that a lock refused, oldest first. */
  const pending: Array<{ readonly row: LedgerRow; readonly id: RowId | undefined }> = []

  /** Inserts a row, or completes the running row `id`; the id of the row. */
  const write = (row: LedgerRow, id: RowId | undefined, wait: number) =>
    use((db): RowId => {
      if (id !== undefined) {
        db.query(UPDATE).run(...bindings(row), id)
        return id
      }
      return (db.query(INSERT).get(...bindings(row)) as { id: RowId }).id
    }, wait)

  /** Writes kept rows in order until one is refused; a lock keeps the rest, any other failure is returned. */
  const drain = (wait: number): Effect.Effect<number, LedgerError> =>
    Effect.gen(function*() {
      while (pending.length > 0) {
        const next = pending[0]!
        const written = yield* write(next.row, next.id, wait).pipe(
          Effect.as(true),
          Effect.catch((error) => (error.kind === "locked" ? Effect.succeed(false) : Effect.fail(error)))
        )
        if (!written) break
        pending.shift()
      }
      return pending.length
    })

  const record = (row: LedgerRow, id?: RowId) =>
    Effect.suspend(() => {
      const entry = { row, id }
      pending.push(entry)
      return drain(SHORT_BUSY_TIMEOUT_MS).pipe(
        Effect.map((left): Recorded => (left === 0 ? "written" : "deferred")),
        // Not locked but broken: this row cannot be written at all; do not keep it.
        Effect.tapError(() => Effect.sync(() => void pending.splice(pending.indexOf(entry), 1)))
      )
    })

  // A running row is a best effort: when the ledger cannot take it now, the finished row is written whole later.
  const begin = (row: LedgerRow) =>
    write(row, undefined, SHORT_BUSY_TIMEOUT_MS).pipe(Effect.orElseSucceed(() => undefined))

  const progress = (id: RowId, row: LedgerRow) => write(row, id, SHORT_BUSY_TIMEOUT_MS).pipe(Effect.ignore)

  const flush = Effect.suspend(() => drain(busyTimeoutMs))

  const report = (query: ReportQuery): Effect.Effect<Report, LedgerError> =>
    read((db): Report => {
      // Whole days come from the rollup; a --since that falls inside a day adds that day's raw rows from then on.
      const modelFilter = query.model !== undefined ? " AND (model_name = ? COLLATE NOCASE OR model_id = ?)" : ""
      const modelParams: Array<SQLQueryBindings> = query.model !== undefined ? [query.model, query.model] : []
      const sinceDay = query.since !== undefined ? localDay(query.since) : ""
      const dayStart = query.since !== undefined ? new Date(`${sinceDay}T00:00:00`).getTime() : 0
      const partial = query.since !== undefined && query.since > dayStart
      const rollupWhere = `WHERE day ${partial ? ">" : ">="} ?${modelFilter}`
      const rollupParams = [sinceDay, ...modelParams]
      const rawWhere = `WHERE day = ? AND ts >= ?${modelFilter}`
      const rawParams = [sinceDay, query.since ?? 0, ...modelParams]

      const grouped = (key: string, rollupKey: string) => {
        const rows = db.query(`SELECT ${rollupKey} AS key, ${ROLLUP_SUMS} FROM daily ${rollupWhere} GROUP BY 1`)
          .all(...rollupParams) as Array<Totals>
        const merged = mergeInto(new Map(), rows)
        if (partial) {
          mergeInto(merged, db.query(`SELECT ${key} AS key, ${ROW_SUMS} FROM requests ${rawWhere} GROUP BY 1`)
            .all(...rawParams) as Array<Totals>)
        }
        return [...merged.values()]
      }
      const byModel = grouped("model_name", "model_name").sort((a, b) => b.cost - a.cost || b.requests - a.requests)
      const byDay = grouped("day", "day").sort((a, b) => (a.key < b.key ? 1 : -1))

      const conversationQuery = db.query(
        `SELECT conversation_id AS key, ${ROW_SUMS} FROM requests WHERE conversation_id = ? AND ts >= ?${modelFilter}`
      )
      if (query.conversation !== undefined) {
        const one = conversationQuery.get(query.conversation, 0, ...modelParams) as Totals
        return { total: { ...one, key: "total" }, byModel, byDay, byConversation: [one] }
      }

      // The most recent conversations, found through the ts index, then summed through the conversation index.
      const limit = query.conversations ?? 10
      const recent: Array<string> = []
      const seen = new Set<string>()
      const scan = db.query(
        `SELECT conversation_id AS c FROM requests WHERE ts >= ?${modelFilter} ORDER BY ts DESC`
      )
      for (const r of scan.iterate(query.since ?? 0, ...modelParams) as Iterable<{ c: string }>) {
        if (seen.has(r.c)) continue
        seen.add(r.c)
        recent.push(r.c)
        if (recent.length >= limit) break
      }
      const byConversation = recent.map((c) => conversationQuery.get(c, query.since ?? 0, ...modelParams) as Totals)
      return { total: sumAll(byModel), byModel, byDay, byConversation }
    }).pipe(Effect.map((report) => report ?? EMPTY_REPORT))

  const reprice = (priceOf: (modelName: string, modelId: string, host: string) => PriceSource) =>
    Effect.gen(function*() {
      const models = yield* read((db) =>
        db.query("SELECT DISTINCT model_name AS name, model_id AS id, host FROM requests WHERE price_source = 'unpriced'")
          .all() as Array<{ name: string; id: string; host: string }>
      )
      const found = (models ?? []).flatMap((m) => {
        const source = priceOf(m.name, m.id, m.host)
        return source.kind === "config" || source.kind === "table" ? [{ ...m, price: source.price, label: sourceLabel(source) }] : []
      })
      if (found.length === 0) return 0
      return yield* use((db) => {
        let priced = 0
        const update = db.query(REPRICE)
        db.transaction(() => {
          for (const m of found) {
            const p = m.price
            const w5 = p.cacheWrite ?? p.input
            const w1h = p.cacheWrite1h ?? w5
            priced += update.run(
              p.input, p.cacheRead ?? p.input, w5, w1h, p.output, p.input, p.cacheRead ?? p.input, w5, p.input, w1h, p.input,
              m.label, m.name, m.id, m.host
            ).changes
          }
        }).immediate()
        return priced
      })
    })

  return { path, begin, progress, record, flush, report, reprice, close }
}

/**
 * Prices one model's unpriced rows: each class at its rate (per million tokens), as ledger/cost.ts's costOf and
 * savingsOf do. Parameters: input, cache read, 5-minute write and 1-hour write rates, output; then input, cache
 * read, 5-minute write, input, 1-hour write, input for the savings; the source; the model's name, id and host.
 */
const REPRICE = `UPDATE requests SET
  cost_input = input_uncached * ?1 / 1e6,
  cost_cache_read = cache_read * ?2 / 1e6,
  cost_cache_write = (cache_write_5m * ?3 + cache_write_1h * ?4) / 1e6,
  cost_output = output_tokens * ?5 / 1e6,
  cost_total = (input_uncached * ?1 + cache_read * ?2 + cache_write_5m * ?3 + cache_write_1h * ?4 + output_tokens * ?5) / 1e6,
  savings = (cache_read * (?6 - ?7) - cache_write_5m * (?8 - ?9) - cache_write_1h * (?10 - ?11)) / 1e6,
  price_source = ?12
  WHERE price_source = 'unpriced' AND model_name = ?13 AND model_id = ?14 AND host = ?15`

/** A ledger that records nothing: recording is off (BYOK_NO_RECORD), or there is nowhere to record (no HOME). */
export const disabled = (why: "off" | "nowhere"): Interface => ({
  path: "",
  begin: () => Effect.succeed(undefined),
  progress: () => Effect.void,
  record: () => Effect.succeed(why),
  flush: Effect.succeed(0),
  report: () => Effect.succeed(EMPTY_REPORT),
  reprice: () => Effect.succeed(0)
})

/**
 * The ledger for the program's lifetime (ledger.db in the data directory): when it ends, kept rows get the ordinary
 * wait and the file is closed.
 */
export const layer = Layer.effect(
  CostLedger,
  Effect.flatMap(dataPlace, (place) =>
    place._tag !== "Directory"
      ? Effect.succeed(CostLedger.of(disabled(place._tag === "Off" ? "off" : "nowhere")))
      : Effect.acquireRelease(
        Effect.sync(() => make(`${place.path}/ledger.db`)),
        (ledger) => ledger.flush.pipe(Effect.ignore, Effect.andThen(ledger.close))
      ).pipe(Effect.map((ledger) => CostLedger.of(ledger))))
)

