// Prompt-cache breakpoints shared by the formats that take Anthropic-style `cache_control` markers: the Messages
// API itself and OpenRouter's Chat Completions for anthropic/ and google/ models, which passes them on.
// Breakpoints go on the system prompt and the latest user turn: 2 of the 4 allowed.
import type { ModelEntry } from "../config/schema.ts"
import type { Turn } from "./conversation.ts"

export const cacheControl = (entry: ModelEntry) =>
  entry.cacheTtl === "1h" ? { type: "ephemeral", ttl: "1h" } : { type: "ephemeral" }

/** The turn that carries the conversation's trailing breakpoint. */
export const breakpointTurn = (turns: ReadonlyArray<Turn>) => turns.findLastIndex((t) => t.role === "user")
