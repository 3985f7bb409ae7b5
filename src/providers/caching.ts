// Prompt-cache breakpoints shared by the formats that take Anthropic-style `cache_control` markers: the Messages
// API itself and OpenRouter's Chat Completions for anthropic/ and google/ models, which passes them on.
// Breakpoints go on the system prompt and the latest user turn: 2 of the 4 allowed.
import type { ModelEntry } from "../config/schema.ts"
import type { Turn } from "./conversation.ts"

export const cacheControl = (entry: ModelEntry) =>
  entry.cacheTtl === "1h" ? { type: "ephemeral", ttl: "1h" } : { type: "ephemeral" }

/** The turn that carries the conversation's trailing breakpoint. */
export const breakpointTurn = (turns: ReadonlyArray<Turn>) => turns.findLastIndex((t) => t.role === "user")

/**
 * The shortest prompt Anthropic caches for a model, in tokens, per model family (PROTOCOLS.md §1.2), most specific
 * first. A shorter prompt is silently not cached.
 */
const ANTHROPIC_MINIMUM: ReadonlyArray<readonly [RegExp, number]> = [
  [/opus-5/, 512],
  [/opus-4-7/, 2048],
  [/opus-4-[56]|haiku-4-5/, 4096],
  [/haiku-3/, 2048],
  [/claude/, 1024]
]

export const anthropicCacheMinimum = (model: string): number | undefined => {
  const id = model.toLowerCase().replace(/(\d)\.(\d)/g, "$1-$2")
  return ANTHROPIC_MINIMUM.find(([pattern]) => pattern.test(id))?.[1]
}

/** OpenAI caches prompts from 1,024 tokens. */
export const OPENAI_CACHE_MINIMUM = 1024
