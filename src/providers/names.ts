// The provider strings of droid's config (exactly these, lower case) and the other words users write for them. A
// leaf: config validation reads it without the wire formats (providers/registry.ts), which read the config's types.

export const PROVIDER_ALIASES = {
  anthropic: ["claude", "messages", "anthropic-messages"],
  openai: ["responses", "openai-responses"],
  "generic-chat-completion-api": ["chat-completions", "chat-completion", "openai-compatible", "openai-chat", "generic", "ollama", "openrouter"]
} as const satisfies Record<string, ReadonlyArray<string>>

export type ProviderName = keyof typeof PROVIDER_ALIASES

export const PROVIDERS = Object.keys(PROVIDER_ALIASES) as ReadonlyArray<ProviderName>

export const isProviderName = (s: string): s is ProviderName => Object.hasOwn(PROVIDER_ALIASES, s)

/** The provider a user most likely meant by another word (`claude`, `ollama`, `responses`). */
export const providerForAlias = (word: string): ProviderName | undefined => {
  const lower = word.trim().toLowerCase()
  return PROVIDERS.find((p) => (PROVIDER_ALIASES[p] as ReadonlyArray<string>).includes(lower))
}
