// The wire formats byok speaks, by the provider string a config entry names. Config validation (the valid names
// and their aliases), the Provider dispatch, the chat's model grouping, caching minimums and base-URL hints all
// read this table. Adding a wire format is one folder (wire.ts request.ts stream.ts usage.ts spec.ts) plus one
// line here.
import type { ModelEntry } from "../config/schema.ts"
import { spec as anthropic } from "./anthropic/spec.ts"
import { spec as chatCompletions } from "./chat-completions/spec.ts"
import type { WireSpec } from "./format.ts"
import { spec as responses } from "./openai-responses/spec.ts"

export const WIRE_FORMATS = {
  anthropic,
  openai: responses,
  "generic-chat-completion-api": chatCompletions
} satisfies Record<string, WireSpec>

/** The provider strings of droid's config: exactly these, lower case. */
export type ProviderName = keyof typeof WIRE_FORMATS

export const PROVIDERS = Object.keys(WIRE_FORMATS) as ReadonlyArray<ProviderName>

export const isProviderName = (s: string): s is ProviderName => Object.hasOwn(WIRE_FORMATS, s)

/** The provider a user most likely meant by another word (`claude`, `ollama`, `responses`). */
export const providerForAlias = (word: string): ProviderName | undefined => {
  const lower = word.trim().toLowerCase()
  return PROVIDERS.find((p) => WIRE_FORMATS[p].aliases.includes(lower))
}

/** The shortest prompt that is cached for this entry, in tokens; undefined where byok cannot tell. */
export const minimumCacheablePrompt = (entry: ModelEntry): number | undefined =>
  WIRE_FORMATS[entry.provider].cacheMinimum(entry)
