// The conversation model shared by all three wire formats: an optional system prompt and alternating user and
// assistant turns, each made of parts. A user turn holds text and tool results; an assistant turn text, reasoning
// and tool calls. Reasoning keeps what its API needs to take it back (Anthropic's signature or redacted data,
// OpenAI's encrypted content) and which format and model made it: another format drops it rather than send what
// it would refuse. Each format lowers the parts to its own request body in its request.ts.
//
// The shape follows effect/ai's Prompt (text, reasoning, tool-call and tool-result parts); byok keeps its own plain
// types: Prompt's parts are Schema classes made per part, more than the streaming path and the session store need,
// and their provider options carry no format or model for reasoning.
import type { Duration, Effect } from "effect"
import type { ModelEntry, ReasoningEffort } from "../config/schema.ts"
import type { ProviderName } from "./names.ts"
import type { ProviderError } from "./errors.ts"

export interface TextPart {
  readonly type: "text"
  readonly text: string
}

export interface ReasoningPart {
  readonly type: "reasoning"
  /** The reasoning as shown (a summary, for OpenAI); may be empty when only its opaque form came. */
  readonly text: string
  /** Anthropic: the signature of a thinking block, which must come back with it. */
  readonly signature?: string
  /** Anthropic: a redacted_thinking block's data. */
  readonly redacted?: string
  /** OpenAI Responses: the reasoning item's id and encrypted_content. */
  readonly itemId?: string
  readonly encrypted?: string
  /** Who made it: only that format, and that model, may be sent it back. */
  readonly format: ProviderName
  readonly model: string
}

export interface ToolCallPart {
  readonly type: "tool-call"
  /** The call's id as its API gave it (`toolu_…`, `call_…`). */
  readonly id: string
  readonly name: string
  /** The arguments as the model wrote them: JSON text (possibly not valid JSON). */
  readonly arguments: string
  /**
   * "function" for a function the caller declared; otherwise what the API called the item (Responses
   * `custom_tool_call`, `local_shell_call`, `apply_patch_call`…, Anthropic `server_tool_use`).
   */
  readonly kind: string
  /** The model wrote the call as text, and byok read it as one (providers/recover.ts). */
  readonly recovered?: boolean
}

export interface ToolResultPart {
  readonly type: "tool-result"
  readonly callId: string
  readonly name: string
  readonly output: string
  readonly isError?: boolean
}

export interface ImagePart {
  readonly type: "image"
  readonly mediaType: "image/png" | "image/jpeg" | "image/gif" | "image/webp"
  /** The image, base64; a saved conversation keeps it in a file of its own, by `hash` (chat/sessions.ts). */
  readonly data: string
  readonly width?: number
  readonly height?: number
}

export type UserPart = TextPart | ImagePart | ToolResultPart
export type AssistantPart = TextPart | ReasoningPart | ToolCallPart
export type Part = UserPart | AssistantPart

export type Turn =
  | { readonly role: "user"; readonly parts: ReadonlyArray<UserPart> }
  | { readonly role: "assistant"; readonly parts: ReadonlyArray<AssistantPart> }

/** A turn's text parts, joined: what it says in words. */
export const textOf = (turn: { readonly parts: ReadonlyArray<Part> }): string => {
  let out = ""
  for (const part of turn.parts) if (part.type === "text") out += part.text
  return out
}

/** A user turn of text alone. */
export const userText = (text: string): Turn => ({ role: "user", parts: [{ type: "text", text }] })

/**
 * A call id in the characters an API allows, the same for a call and its result: ids made by one format go to
 * another when a conversation switches models (Anthropic takes only letters, digits, `_` and `-`; Mistral only
 * nine letters or digits). An id that already fits is kept; another becomes a stable digest of itself.
 */
export const callIdFor = (id: string, rule: { readonly pattern: RegExp; readonly length?: number }): string => {
  if (rule.pattern.test(id) && (rule.length === undefined || id.length === rule.length)) return id
  const digest = Bun.hash(id).toString(36).replace(/[^A-Za-z0-9]/g, "")
  if (rule.length !== undefined) return digest.padStart(rule.length, "0").slice(-rule.length)
  const cleaned = id.replace(/[^A-Za-z0-9_-]/g, "_")
  return `${cleaned.slice(0, 40)}_${digest}`
}

/** Tools in a stable order (by name), so that the same tools make the same cached prefix whatever order they came in. */
export const sortedTools = (tools: ReadonlyArray<ToolDefinition> | undefined): ReadonlyArray<ToolDefinition> =>
  [...(tools ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

/** What a call byok did not run gets as its result, so that the conversation can go on. */
export const NOT_RUN = "This tool was not run: byok ran no tools in this conversation."

/**
 * The turns with every call answered: each API refuses a conversation in which a tool call is not followed by its
 * result (Anthropic's tool_result, Responses' function_call_output, Chat's tool message). A call that got none (byok
 * exec prints calls and runs none; the next message is the user's) is answered as not run, before what the user
 * said next.
 */
export const withEveryCallAnswered = (turns: ReadonlyArray<Turn>): ReadonlyArray<Turn> => {
  let changed = false
  const out = turns.map((turn, i): Turn => {
    const previous = turns[i - 1]
    if (turn.role !== "user" || previous?.role !== "assistant") return turn
    const answered = new Set(turn.parts.flatMap((p) => (p.type === "tool-result" ? [p.callId] : [])))
    const missing = previous.parts.flatMap((p): ReadonlyArray<UserPart> =>
      p.type === "tool-call" && !answered.has(p.id)
        ? [{ type: "tool-result", callId: p.id, name: p.name, output: NOT_RUN, isError: true }]
        : []
    )
    if (missing.length === 0) return turn
    changed = true
    return { role: "user", parts: [...missing, ...turn.parts] }
  })
  return changed ? out : turns
}

/**
 * Consecutive user turns as one (a turn of results byok kept after the user stopped the tools, then the user's
 * next message): every API takes a call's results, then what the user says, in one turn.
 */
export const mergeUserTurns = (turns: ReadonlyArray<Turn>): ReadonlyArray<Turn> =>
  turns.reduce<Array<Turn>>((out, turn) => {
    const last = out.at(-1)
    if (turn.role === "user" && last?.role === "user") out[out.length - 1] = { role: "user", parts: [...last.parts, ...turn.parts] }
    else out.push(turn)
    return out
  }, [])

/** A tool the model may call: its name, what it is for, and its arguments as a JSON Schema object. */
export interface ToolDefinition {
  readonly name: string
  readonly description?: string | undefined
  readonly parameters: Record<string, unknown>
}

/** Whether the model may, must, or must not call a tool; or which one it must call. */
export type ToolChoice = "auto" | "none" | "required" | { readonly name: string }

export interface Conversation {
  /** The conversation's id (ledger, sessions). */
  readonly id: string
  readonly system: string | undefined
  readonly turns: ReadonlyArray<Turn>
}

/** One call to a model: which entry, what to send, and the output cap for this call. */
export interface LlmRequest {
  readonly model: ModelEntry
  readonly conversation: Conversation
  readonly maxOutputTokens: number
  /** Tools offered to the model, and whether it may call them. */
  readonly tools?: ReadonlyArray<ToolDefinition> | undefined
  readonly toolChoice?: ToolChoice | undefined
  /** How hard the model should think; undefined (or "off") sends nothing about it. */
  readonly reasoningEffort?: ReasoningEffort | undefined
  /** How long to wait for the answer to start, and for each next piece of it. */
  readonly timeouts: Timeouts
  /** How many times to try again after a retryable failure before any output (default 2, as the SDKs). */
  readonly maxRetries?: number
  /** Told before each retry, e.g. to say so on stderr. */
  readonly onRetry?: (info: RetryInfo) => Effect.Effect<void>
}

/** byok's own limits on waiting for a server (Bun's fetch has none that fit: its 5-minute socket idle timer). */
export interface Timeouts {
  /** From sending the request to the answer's first byte: connecting, the response headers, the first event. */
  readonly firstByte: Duration.Duration
  /** Between two pieces of the answer once it streams. */
  readonly idle: Duration.Duration
}

export interface RetryInfo {
  readonly error: ProviderError
  /** 1 for the first retry. */
  readonly attempt: number
  readonly maxRetries: number
  readonly delay: Duration.Duration
}

/**
 * OpenAI's prompt_cache_key: requests with the same key and prefix are routed to the same cache. Derived from what
 * starts the conversation (model, system prompt, first user turn), it stays the same as a conversation grows and is
 * shared by repeated runs of the same prompt, where a random id per run would scatter them across caches.
 */
export const promptCacheKey = (request: LlmRequest): string => {
  const firstTurn = request.conversation.turns.find((t) => t.role === "user")
  const first = firstTurn !== undefined ? textOf(firstTurn) : ""
  const seed = `${request.model.model}\u0000${request.conversation.system ?? ""}\u0000${first}`
  return `byok-${Bun.hash(seed).toString(36)}`
}
