// The bundled table of context windows, in tokens, for well-known model ids, beside the bundled prices and matched
// the same way (ledger/prices.ts normaliseModelId: no provider prefix, no date suffix). Sources: each vendor's model
// pages as published on the date of each group. A model entry's own `contextWindow` wins over this table; what a
// local server says it serves comes next; a model in neither gets the stated default.
import { normaliseModelId } from "./prices.ts"

interface WindowRow {
  readonly models: ReadonlyArray<string>
  readonly tokens: number
  readonly asOf: string
}

const TABLE: ReadonlyArray<WindowRow> = [
  // Anthropic (platform.claude.com, models overview): 200k, 1M for the newest with the long-context option
  { models: ["claude-fable-5.1", "claude-mythos-5.1", "claude-fable-5", "claude-mythos-5", "claude-opus-5", "claude-sonnet-5"], tokens: 1_000_000, asOf: "2026-11-26" },
  { models: ["claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5", "claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4", "claude-haiku-4-5", "claude-3-7-sonnet", "claude-3-5-sonnet", "claude-3-5-haiku", "claude-3-opus", "claude-3-haiku"], tokens: 200_000, asOf: "2026-11-26" },
  // OpenAI (platform.openai.com, models)
  { models: ["gpt-5.5", "gpt-5.5-pro", "gpt-5.4", "gpt-5.4-pro", "gpt-5.2", "gpt-5.1", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5-codex", "gpt-5.1-codex"], tokens: 400_000, asOf: "2026-06-04" },
  { models: ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"], tokens: 1_047_576, asOf: "2026-06-04" },
  { models: ["gpt-4o", "gpt-4o-mini", "o1", "o3", "o3-mini", "o4-mini"], tokens: 128_000, asOf: "2026-06-04" },
  { models: ["o3-pro", "o1-pro"], tokens: 200_000, asOf: "2026-06-04" },
  // Google (ai.google.dev, Gemini models)
  { models: ["gemini-3-pro", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash"], tokens: 1_048_576, asOf: "2026-06-04" },
  // Open models as their makers publish them (hosts may serve less)
  { models: ["deepseek-chat", "deepseek-reasoner", "deepseek-v3", "deepseek-r1"], tokens: 128_000, asOf: "2026-06-04" },
  { models: ["kimi-k2-instruct", "kimi-k2"], tokens: 131_072, asOf: "2026-06-04" },
  { models: ["gpt-oss-120b", "gpt-oss-20b"], tokens: 131_072, asOf: "2026-06-04" },
  { models: ["llama-3.3-70b-instruct", "llama-3.1-8b-instruct", "llama-3.1-70b-instruct"], tokens: 131_072, asOf: "2026-06-04" },
  { models: ["qwen3-coder", "qwen3-235b-a22b"], tokens: 262_144, asOf: "2026-06-04" }
]

/** Where a window figure came from, as `byok models` says it. */
export type WindowSource = "config" | "table" | "server" | "error" | "default"

/** The windows byok assumes when nothing says: a local server's common default, and a remote model's. */
export const DEFAULT_LOCAL_WINDOW = 8_192
export const DEFAULT_REMOTE_WINDOW = 128_000

/** The bundled table's window for a model id (exactly, or with a build or date suffix), if it has one. */
export const tableWindow = (model: string): number | undefined => {
  const id = normaliseModelId(model)
  let best: WindowRow | undefined
  let length = 0
  for (const row of TABLE) {
    for (const name of row.models) {
      if ((id === name || (id.startsWith(name) && /^-\d{3,}$/.test(id.slice(name.length)))) && name.length > length) {
        best = row
        length = name.length
      }
    }
  }
  return best?.tokens
}
