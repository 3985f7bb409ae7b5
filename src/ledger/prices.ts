// The bundled price table: USD per million tokens, per model, with the date each row was taken. Rows match a
// normalised model id (provider prefix and date suffix removed); a row with `hosts` applies only there (open
// models cost different amounts on each host). OpenRouter needs no rows: it reports its own `usage.cost`.
// Sources: the providers' pricing pages as published on each row's date. Prices change: a per-model override in
// byok's config wins over this table, and a model that is in neither is "unpriced", never $0.

export interface Price {
  readonly input: number
  readonly output: number
  /** Cache hits. Absent: billed as input (no discount known). */
  readonly cacheRead?: number
  /** 5-minute cache writes (Anthropic 1.25× input). Absent: billed as input (OpenAI-style implicit caching). */
  readonly cacheWrite?: number
  /** 1-hour cache writes (Anthropic 2× input). Absent: the 5-minute rate. */
  readonly cacheWrite1h?: number
}

export interface PriceRow extends Price {
  /** Normalised model ids (see normaliseModelId), matched exactly or as a prefix followed by "-". */
  readonly models: ReadonlyArray<string>
  readonly hosts?: ReadonlyArray<string>
  readonly asOf: string
}

/** Anthropic: writes 1.25× (5m) and 2× (1h) input, reads 0.1× input (0.05× or 0.025× where the table says). */
const anthropic = (models: ReadonlyArray<string>, input: number, output: number, read = input * 0.1): PriceRow => ({
  models,
  input,
  output,
  cacheRead: round(read),
  cacheWrite: round(input * 1.25),
  cacheWrite1h: round(input * 2),
  asOf: "2026-11-26"
})

/** OpenAI-style: cached input at its own rate; cache writes cost plain input. */
const cached = (
  models: ReadonlyArray<string>,
  input: number,
  read: number,
  output: number,
  asOf: string,
  hosts?: ReadonlyArray<string>
): PriceRow => ({ models, input, cacheRead: read, output, asOf, ...(hosts ? { hosts } : {}) })

const round = (n: number) => Math.round(n * 1e6) / 1e6

export const PRICE_TABLE: ReadonlyArray<PriceRow> = [
  // ---- Anthropic (platform.claude.com pricing) -----------------------------------------------------------------
  anthropic(["claude-fable-5.1", "claude-mythos-5.1"], 10, 50, 0.25),
  anthropic(["claude-fable-5", "claude-mythos-5"], 10, 50, 1),
  anthropic(["claude-opus-5", "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5"], 5, 25),
  anthropic(["claude-opus-4-1", "claude-opus-4", "claude-3-opus"], 15, 75),
  anthropic(["claude-sonnet-5"], 2, 10),
  anthropic(["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4", "claude-3-7-sonnet", "claude-3-5-sonnet"], 3, 15),
  anthropic(["claude-haiku-4-5"], 1, 5),
  anthropic(["claude-3-5-haiku"], 0.8, 4),
  anthropic(["claude-3-haiku"], 0.25, 1.25, 0.03),
  // ---- OpenAI (openai.com/api/pricing, standard tier, short context) -------------------------------------------
  cached(["gpt-5.5-pro", "gpt-5.4-pro"], 30, 30, 180, "2026-06-04"),
  cached(["gpt-5.5"], 5, 0.5, 30, "2026-06-04"),
  cached(["gpt-5.4-mini"], 0.75, 0.075, 4.5, "2026-06-04"),
  cached(["gpt-5.4-nano"], 0.2, 0.02, 1.25, "2026-06-04"),
  cached(["gpt-5.4"], 2.5, 0.25, 15, "2026-06-04"),
  cached(["gpt-5-mini"], 0.25, 0.025, 2, "2025-08-07"),
  cached(["gpt-5-nano"], 0.05, 0.005, 0.4, "2025-08-07"),
  cached(["gpt-5.1", "gpt-5", "gpt-5-codex", "gpt-5.1-codex"], 1.25, 0.125, 10, "2025-11-13"),
  cached(["gpt-4.1-mini"], 0.4, 0.1, 1.6, "2025-04-14"),
  cached(["gpt-4.1-nano"], 0.1, 0.025, 0.4, "2025-04-14"),
  cached(["gpt-4.1"], 2, 0.5, 8, "2025-04-14"),
  cached(["gpt-4o-mini"], 0.15, 0.075, 0.6, "2024-07-18"),
  cached(["gpt-4o"], 2.5, 1.25, 10, "2024-11-20"),
  cached(["o4-mini"], 1.1, 0.275, 4.4, "2025-04-16"),
  cached(["o3"], 2, 0.5, 8, "2025-06-10"),
  // ---- Google Gemini (ai.google.dev pricing, prompts up to 200k tokens) -----------------------------------------
  cached(["gemini-3-pro-preview", "gemini-3-pro"], 2, 0.2, 12, "2025-11-18"),
  cached(["gemini-2.5-pro"], 1.25, 0.125, 10, "2025-10-01"),
  cached(["gemini-2.5-flash-lite"], 0.1, 0.01, 0.4, "2025-10-01"),
  cached(["gemini-2.5-flash"], 0.3, 0.03, 2.5, "2025-10-01"),
  // ---- DeepSeek (api-docs.deepseek.com pricing: cache miss / cache hit / output) --------------------------------
  cached(["deepseek-chat", "deepseek-reasoner"], 0.28, 0.028, 0.42, "2025-09-29", ["api.deepseek.com"]),
  // ---- Open models on Fireworks (cached input is half of input unless listed), DeepInfra and Together -----------
  cached(["gpt-oss-120b"], 0.15, 0.075, 0.6, "2025-08-05", ["api.fireworks.ai"]),
  cached(["gpt-oss-20b"], 0.07, 0.035, 0.3, "2025-08-05", ["api.fireworks.ai"]),
  cached(["kimi-k2-instruct"], 0.6, 0.3, 2.5, "2025-09-05", ["api.fireworks.ai"]),
  cached(["qwen3-coder-480b-a35b-instruct"], 0.45, 0.225, 1.8, "2025-07-23", ["api.fireworks.ai"]),
  cached(["deepseek-v3p1", "deepseek-v3"], 0.56, 0.28, 1.68, "2025-08-21", ["api.fireworks.ai"]),
  cached(["llama-v3p3-70b-instruct"], 0.9, 0.45, 0.9, "2025-01-01", ["api.fireworks.ai"]),
  cached(["gpt-oss-120b"], 0.09, 0.09, 0.45, "2025-08-05", ["api.deepinfra.com"]),
  cached(["gpt-oss-20b"], 0.04, 0.04, 0.16, "2025-08-05", ["api.deepinfra.com"]),
  cached(["llama-3.3-70b-instruct-turbo", "llama-3.3-70b-instruct"], 0.13, 0.13, 0.39, "2025-06-01", ["api.deepinfra.com"]),
  cached(["gpt-oss-120b"], 0.15, 0.15, 0.6, "2025-08-05", ["api.together.xyz"]),
  cached(["gpt-oss-20b"], 0.05, 0.05, 0.2, "2025-08-05", ["api.together.xyz"]),
  cached(["llama-3.3-70b-instruct-turbo"], 0.88, 0.88, 0.88, "2025-01-01", ["api.together.xyz"]),
  cached(["deepseek-v3"], 1.25, 1.25, 1.25, "2025-01-01", ["api.together.xyz"])
]

/**
 * `anthropic/claude-sonnet-4.5` → `claude-sonnet-4-5` (Anthropic's own spelling), `accounts/fireworks/models/
 * kimi-k2-instruct` → `kimi-k2-instruct`, `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`,
 * `gpt-4.1-2025-04-14` → `gpt-4.1`.
 */
export const normaliseModelId = (model: string): string => {
  const id = (model.toLowerCase().split("/").at(-1) ?? "")
    .replace(/:.*$/, "")
    .replace(/-\d{4}-?\d{2}-?\d{2}$/, "")
    .replace(/-latest$/, "")
  return id.startsWith("claude") ? id.replace(/(\d)\.(\d)/g, "$1-$2") : id
}

/** Exactly, or followed by a build or date suffix (`kimi-k2-instruct-0905`); never a different variant. */
const matches = (id: string, name: string) => id === name || (id.startsWith(name) && /^-\d{3,}$/.test(id.slice(name.length)))

/** The table row for a model on a host: host-specific rows first, then the model's own; longest name wins. */
export const findPrice = (model: string, host: string): PriceRow | undefined => {
  const id = normaliseModelId(model)
  let best: { row: PriceRow; score: number } | undefined
  for (const row of PRICE_TABLE) {
    if (row.hosts !== undefined && !row.hosts.includes(host)) continue
    for (const name of row.models) {
      if (!matches(id, name)) continue
      const score = name.length + (row.hosts !== undefined ? 1000 : 0)
      if (best === undefined || score > best.score) best = { row, score }
    }
  }
  return best?.row
}
