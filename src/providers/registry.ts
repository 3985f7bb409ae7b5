// The wire formats byok speaks, by the provider string a config entry names (names.ts). The Provider dispatch, the
// chat's model grouping, caching minimums and base-URL hints read this table. Adding a wire format is one folder
// (wire.ts request.ts stream.ts usage.ts spec.ts) plus one line here and one in names.ts.
import type { ModelEntry } from "../config/schema.ts"
import { spec as anthropic } from "./anthropic/spec.ts"
import { spec as chatCompletions } from "./chat-completions/spec.ts"
import type { WireSpec } from "./format.ts"
import type { ProviderName } from "./names.ts"
import { spec as responses } from "./openai-responses/spec.ts"

export const WIRE_FORMATS: Readonly<Record<ProviderName, WireSpec>> = {
  anthropic,
  openai: responses,
  "generic-chat-completion-api": chatCompletions
}

/** The shortest prompt that is cached for this entry, in tokens; undefined where byok cannot tell. */
export const minimumCacheablePrompt = (entry: ModelEntry): number | undefined =>
  WIRE_FORMATS[entry.provider].cacheMinimum(entry)

/**
 * The base_url to try when a server answered 404: OpenAI-style APIs live under a version path (`/v1`), which
 * base_url must include for formats that do not add it themselves. Undefined when base_url looks right.
 */
export const versionPathHint = (entry: ModelEntry): string | undefined =>
  WIRE_FORMATS[entry.provider].addsVersion || entry.endpoint.versioned || /openai/.test(entry.endpoint.path)
    ? undefined
    : `${entry.baseUrl}/v1`
