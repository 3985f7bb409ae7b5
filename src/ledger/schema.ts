// The ledger's tables, versioned with SQLite's user_version: migration N brings a file from version N-1 to N.
// Each runs in the same transaction as its version bump, so a file is always at a whole version.
// One row per request; never a key. Costs are NULL when the request was unpriced.

export const MIGRATIONS: ReadonlyArray<string> = [
  // 1: the request ledger, and a rollup by (local day, model) kept by a trigger in the same transaction as each
  // insert, so that `byok cost` reads a few hundred rollup rows instead of scanning every request.
  `CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    day TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    model_name TEXT NOT NULL,
    provider TEXT NOT NULL,
    model_id TEXT NOT NULL,
    host TEXT NOT NULL,
    input_uncached INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    cache_write_5m INTEGER NOT NULL,
    cache_write_1h INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    usage_reported INTEGER NOT NULL,
    cost_input REAL,
    cost_cache_read REAL,
    cost_cache_write REAL,
    cost_output REAL,
    cost_total REAL,
    savings REAL,
    price_source TEXT NOT NULL,
    request_id TEXT,
    duration_ms INTEGER NOT NULL,
    ttft_ms INTEGER,
    outcome TEXT NOT NULL,
    stop_reason TEXT
  );
  CREATE INDEX requests_ts ON requests (ts);
  CREATE INDEX requests_conversation ON requests (conversation_id, ts);
  CREATE TABLE daily (
    day TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_id TEXT NOT NULL,
    requests INTEGER NOT NULL,
    input_uncached INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    cache_write INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cost REAL NOT NULL,
    savings REAL NOT NULL,
    unpriced INTEGER NOT NULL,
    local INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    interrupted INTEGER NOT NULL,
    PRIMARY KEY (day, model_name, model_id)
  ) WITHOUT ROWID;
  CREATE TRIGGER requests_daily AFTER INSERT ON requests BEGIN
    INSERT INTO daily VALUES (
      NEW.day, NEW.model_name, NEW.model_id, 1, NEW.input_uncached, NEW.cache_read,
      NEW.cache_write_5m + NEW.cache_write_1h, NEW.output_tokens, NEW.reasoning_tokens,
      COALESCE(NEW.cost_total, 0), COALESCE(NEW.savings, 0), NEW.price_source = 'unpriced',
      NEW.price_source = 'local', NEW.outcome NOT IN ('ok', 'interrupted'), NEW.outcome = 'interrupted'
    ) ON CONFLICT (day, model_name, model_id) DO UPDATE SET
      requests = requests + 1,
      input_uncached = input_uncached + excluded.input_uncached,
      cache_read = cache_read + excluded.cache_read,
      cache_write = cache_write + excluded.cache_write,
      output_tokens = output_tokens + excluded.output_tokens,
      reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
      cost = cost + excluded.cost,
      savings = savings + excluded.savings,
      unpriced = unpriced + excluded.unpriced,
      local = local + excluded.local,
      failed = failed + excluded.failed,
      interrupted = interrupted + excluded.interrupted;
  END;`,
  // 2: a row is written when a request starts (outcome 'running') and completed when it ends, so a process killed
  // outright still leaves its request on record. The rollup counts unfinished rows apart from failed ones, and
  // follows a row's completion through an update trigger (a row's day and model never change).
  `ALTER TABLE daily ADD COLUMN unfinished INTEGER NOT NULL DEFAULT 0;
  DROP TRIGGER requests_daily;
  CREATE TRIGGER requests_daily AFTER INSERT ON requests BEGIN
    INSERT INTO daily VALUES (
      NEW.day, NEW.model_name, NEW.model_id, 1, NEW.input_uncached, NEW.cache_read,
      NEW.cache_write_5m + NEW.cache_write_1h, NEW.output_tokens, NEW.reasoning_tokens,
      COALESCE(NEW.cost_total, 0), COALESCE(NEW.savings, 0), NEW.price_source = 'unpriced',
      NEW.price_source = 'local', NEW.outcome NOT IN ('ok', 'interrupted', 'running'), NEW.outcome = 'interrupted',
      NEW.outcome = 'running'
    ) ON CONFLICT (day, model_name, model_id) DO UPDATE SET
      requests = requests + 1,
      input_uncached = input_uncached + excluded.input_uncached,
      cache_read = cache_read + excluded.cache_read,
      cache_write = cache_write + excluded.cache_write,
      output_tokens = output_tokens + excluded.output_tokens,
      reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
      cost = cost + excluded.cost,
      savings = savings + excluded.savings,
      unpriced = unpriced + excluded.unpriced,
      local = local + excluded.local,
      failed = failed + excluded.failed,
      interrupted = interrupted + excluded.interrupted,
      unfinished = unfinished + excluded.unfinished;
  END;
  CREATE TRIGGER requests_daily_update AFTER UPDATE ON requests BEGIN
    UPDATE daily SET
      input_uncached = input_uncached - OLD.input_uncached + NEW.input_uncached,
      cache_read = cache_read - OLD.cache_read + NEW.cache_read,
      cache_write = cache_write - OLD.cache_write_5m - OLD.cache_write_1h + NEW.cache_write_5m + NEW.cache_write_1h,
      output_tokens = output_tokens - OLD.output_tokens + NEW.output_tokens,
      reasoning_tokens = reasoning_tokens - OLD.reasoning_tokens + NEW.reasoning_tokens,
      cost = cost - COALESCE(OLD.cost_total, 0) + COALESCE(NEW.cost_total, 0),
      savings = savings - COALESCE(OLD.savings, 0) + COALESCE(NEW.savings, 0),
      unpriced = unpriced - (OLD.price_source = 'unpriced') + (NEW.price_source = 'unpriced'),
      local = local - (OLD.price_source = 'local') + (NEW.price_source = 'local'),
      failed = failed - (OLD.outcome NOT IN ('ok', 'interrupted', 'running'))
        + (NEW.outcome NOT IN ('ok', 'interrupted', 'running')),
      interrupted = interrupted - (OLD.outcome = 'interrupted') + (NEW.outcome = 'interrupted'),
      unfinished = unfinished - (OLD.outcome = 'running') + (NEW.outcome = 'running')
    WHERE day = OLD.day AND model_name = OLD.model_name AND model_id = OLD.model_id;
  END;`,
  // 3: rows whose counts byok estimated (the server's never came: an answer cut off, a server that sends none),
  // counted apart in the rollup so that reports can mark them. Both triggers are made anew with the column.
  `ALTER TABLE requests ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE daily ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0;
  DROP TRIGGER requests_daily;
  DROP TRIGGER requests_daily_update;
  CREATE TRIGGER requests_daily AFTER INSERT ON requests BEGIN
    INSERT INTO daily (
      day, model_name, model_id, requests, input_uncached, cache_read, cache_write, output_tokens, reasoning_tokens,
      cost, savings, unpriced, local, failed, interrupted, unfinished, estimated
    ) VALUES (
      NEW.day, NEW.model_name, NEW.model_id, 1, NEW.input_uncached, NEW.cache_read,
      NEW.cache_write_5m + NEW.cache_write_1h, NEW.output_tokens, NEW.reasoning_tokens,
      COALESCE(NEW.cost_total, 0), COALESCE(NEW.savings, 0), NEW.price_source = 'unpriced',
      NEW.price_source = 'local', NEW.outcome NOT IN ('ok', 'interrupted', 'running'), NEW.outcome = 'interrupted',
      NEW.outcome = 'running', NEW.estimated
    ) ON CONFLICT (day, model_name, model_id) DO UPDATE SET
      requests = requests + 1,
      input_uncached = input_uncached + excluded.input_uncached,
      cache_read = cache_read + excluded.cache_read,
      cache_write = cache_write + excluded.cache_write,
      output_tokens = output_tokens + excluded.output_tokens,
      reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
      cost = cost + excluded.cost,
      savings = savings + excluded.savings,
      unpriced = unpriced + excluded.unpriced,
      local = local + excluded.local,
      failed = failed + excluded.failed,
      interrupted = interrupted + excluded.interrupted,
      unfinished = unfinished + excluded.unfinished,
      estimated = estimated + excluded.estimated;
  END;
  CREATE TRIGGER requests_daily_update AFTER UPDATE ON requests BEGIN
    UPDATE daily SET
      input_uncached = input_uncached - OLD.input_uncached + NEW.input_uncached,
      cache_read = cache_read - OLD.cache_read + NEW.cache_read,
      cache_write = cache_write - OLD.cache_write_5m - OLD.cache_write_1h + NEW.cache_write_5m + NEW.cache_write_1h,
      output_tokens = output_tokens - OLD.output_tokens + NEW.output_tokens,
      reasoning_tokens = reasoning_tokens - OLD.reasoning_tokens + NEW.reasoning_tokens,
      cost = cost - COALESCE(OLD.cost_total, 0) + COALESCE(NEW.cost_total, 0),
      savings = savings - COALESCE(OLD.savings, 0) + COALESCE(NEW.savings, 0),
      unpriced = unpriced - (OLD.price_source = 'unpriced') + (NEW.price_source = 'unpriced'),
      local = local - (OLD.price_source = 'local') + (NEW.price_source = 'local'),
      failed = failed - (OLD.outcome NOT IN ('ok', 'interrupted', 'running'))
        + (NEW.outcome NOT IN ('ok', 'interrupted', 'running')),
      interrupted = interrupted - (OLD.outcome = 'interrupted') + (NEW.outcome = 'interrupted'),
      unfinished = unfinished - (OLD.outcome = 'running') + (NEW.outcome = 'running'),
      estimated = estimated - OLD.estimated + NEW.estimated
    WHERE day = OLD.day AND model_name = OLD.model_name AND model_id = OLD.model_id;
  END;`
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** One request as the ledger keeps it. */
export interface LedgerRow {
  /** Start of the request, ms since the epoch. */
  readonly ts: number
  readonly conversationId: string
  readonly modelName: string
  readonly provider: string
  readonly modelId: string
  readonly host: string
  readonly inputUncached: number
  readonly cacheRead: number
  readonly cacheWrite5m: number
  readonly cacheWrite1h: number
  readonly outputTokens: number
  readonly reasoningTokens: number
  /** False when the server sent no usage (the counts are then what was known, or estimated). */
  readonly usageReported: boolean
  /** The counts are byok's estimate (see lib/tokens.ts), not the server's. */
  readonly estimated: boolean
  /** Undefined when unpriced. */
  readonly cost: {
    readonly input: number | null
    readonly cacheRead: number | null
    readonly cacheWrite: number | null
    readonly output: number | null
    readonly total: number
  } | undefined
  readonly savings: number | undefined
  /** "table 2026-11-26", "config", "local", "reported" (OpenRouter usage.cost) or "unpriced". */
  readonly priceSource: string
  readonly requestId: string | undefined
  readonly durationMs: number
  readonly ttftMs: number | undefined
  /**
   * "running" while the request is under way (and for ever, if byok was killed), then "ok", "interrupted", or
   * the error's reason tag (RateLimitError, ConnectionError, …).
   */
  readonly outcome: string
  readonly stopReason: string | undefined
}

/** The local calendar day of a time, YYYY-MM-DD. */
export const localDay = (ts: number): string => {
  const d = new Date(ts)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`
}
