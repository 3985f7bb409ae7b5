// Local model servers in words: how to give a model more context on the server that serves it, the warning before
// a prompt that will not fit, and the one after Ollama silently dropped the start of a prompt.
import type { ModelEntry } from "../config/schema.ts"
import { localServerOf, type ServerKind, serverOfKind } from "../providers/local.ts"

/** A context size worth asking for: a power of two that holds `needed` tokens, at least 8,192. */
export const roomFor = (needed: number | undefined): number => {
  let size = 8192
  while (needed !== undefined && size < needed) size *= 2
  return needed === undefined ? 32768 : size
}

/** The sentence that says how to serve more context: on the server byok recognised, else the one its port suggests. */
export const contextFix = (entry: ModelEntry, kind: ServerKind | undefined, needed: number | undefined): string => {
  const server = kind !== undefined ? serverOfKind(kind) : localServerOf(entry)
  if (server !== undefined) {
    const fix = server.contextFix(roomFor(needed), entry.model)
    return fix[0]!.toUpperCase() + fix.slice(1) + "."
  }
  return entry.endpoint.isLocal
    ? `Serve the model with a larger context (${roomFor(needed)} tokens or more), or shorten the prompt.`
    : "Shorten the prompt or the input piped on stdin, start afresh (/clear in the chat), or use a model with a larger context window."
}

/** Before sending: the prompt and the answer it may take will not fit the context the server serves. */
export const wontFit = (
  entry: ModelEntry,
  kind: ServerKind,
  estimate: number,
  maxOutputTokens: number,
  context: number
): string =>
  `the prompt is about ${estimate.toLocaleString("en-US")} tokens and may take ${maxOutputTokens.toLocaleString("en-US")} more ` +
  `for the answer, but ${serverOfKind(kind).name} serves "${entry.model}" with ${context.toLocaleString("en-US")} tokens of context` +
  (kind === "ollama" ? "; Ollama drops the start of a prompt that does not fit, system prompt first" : "") +
  `. ${contextFix(entry, kind, estimate + maxOutputTokens)}`

/** After an Ollama answer: the server read far less of the prompt than was sent. */
export const droppedByOllama = (entry: ModelEntry, read: number, estimate: number, context: number | undefined): string =>
  `Ollama read only ${read.toLocaleString("en-US")} of about ${estimate.toLocaleString("en-US")} prompt tokens: it dropped the ` +
  `start of the conversation (the system prompt first)` +
  (context !== undefined ? ` to fit its ${context.toLocaleString("en-US")}-token context` : "") +
  `, so the answer may miss it. ${contextFix(entry, "ollama", estimate + entry.maxOutputTokens)}`
