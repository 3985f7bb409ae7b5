// Context that lasts: the window of a model (its entry, the bundled table, what a local server says, an overflow
// error's figure, or the stated default), the running estimate of the next request's size, and the conversation as
// the request carries it: an anchored summary of what came before `through` (updated incrementally: only the newly
// dropped span is summarised and merged into it), then the recent turns verbatim, with tool results before `pruned`
// replaced by a line that says what was there. The session keeps every turn whole. A tool call is never separated
// from its result: the summarised span ends before an assistant turn or before a user message that carries none.
import type { ModelEntry } from "../config/schema.ts"
import { DEFAULT_LOCAL_WINDOW, DEFAULT_REMOTE_WINDOW, tableWindow, type WindowSource } from "../ledger/windows.ts"
import { estimateTokens } from "../lib/tokens.ts"
import { mergeUserTurns, type Turn, type UserPart } from "../providers/conversation.ts"

export interface Window {
  readonly tokens: number
  readonly source: WindowSource
}

/** The window of an entry: its `contextWindow`, the bundled table, what its server serves, or the default. */
export const windowOf = (entry: ModelEntry, served?: number): Window =>
  entry.contextWindow !== undefined
    ? { tokens: entry.contextWindow, source: "config" }
    : served !== undefined
    ? { tokens: served, source: "server" }
    : tableWindow(entry.model) !== undefined
    ? { tokens: tableWindow(entry.model)!, source: "table" }
    : { tokens: entry.endpoint.isLocal ? DEFAULT_LOCAL_WINDOW : DEFAULT_REMOTE_WINDOW, source: "default" }

/** What of the conversation is summarised and pruned; saved with the session. */
export interface Compacted {
  /** The summary of the turns before `through`. */
  readonly summary: string | undefined
  /** Turns before this index are in the summary (0: none). */
  readonly through: number
  /** Tool results in turns before this index are replaced by a line (0: none). */
  readonly pruned: number
}

export const NOTHING_COMPACTED: Compacted = { summary: undefined, through: 0, pruned: 0 }

/** The summary as the request carries it: the first user message, before the turns it did not replace. */
export const summaryTurn = (summary: string): Turn => ({
  role: "user",
  parts: [{
    type: "text",
    text: `[The conversation so far, summarised by byok to fit the model's context window; the turns it replaces are kept in the saved session:]\n${summary}\n[End of the summary. The conversation goes on from here.]`
  }]
})

/** A pruned result's line: what was there, and how to get it again. */
const prunedResult = (part: Extract<UserPart, { type: "tool-result" }>): UserPart => ({
  ...part,
  output: `[byok pruned this result to save context: ${part.name} gave ${part.output.split("\n").length} lines (about ${estimateTokens(part.output)} tokens); call it again if you need them]`
})

/** The turns a request carries: the summary, then the turns from `through`, results before `pruned` replaced. */
export const viewOf = (turns: ReadonlyArray<Turn>, state: Compacted): ReadonlyArray<Turn> => {
  const kept = turns.slice(state.through).map((turn, i): Turn =>
    turn.role === "user" && state.through + i < state.pruned && turn.parts.some((p) => p.type === "tool-result")
      ? { role: "user", parts: turn.parts.map((p) => (p.type === "tool-result" ? prunedResult(p) : p)) }
      : turn
  )
  return state.summary === undefined ? kept : mergeUserTurns([summaryTurn(state.summary), ...kept])
}

/** Whether the summarised span may end before turn `i`: no call is left without its result. */
export const cutsCleanly = (turns: ReadonlyArray<Turn>, i: number): boolean => {
  const turn = turns[i]
  return turn !== undefined && (turn.role === "assistant" || !turn.parts.some((p) => p.type === "tool-result"))
}

/** A turn's size by byok's count (about four characters a token, the framing of a message included). */
export const turnTokens = (turn: Turn): number =>
  4 + turn.parts.reduce((n, p) => {
    switch (p.type) {
      case "text":
      case "reasoning":
        return n + estimateTokens(p.text)
      case "tool-call":
        return n + estimateTokens(p.name + p.arguments)
      case "tool-result":
        return n + estimateTokens(p.output)
      default:
        return n + 800 // an image: about what the APIs charge for a screenshot
    }
  }, 0)

/**
 * Where the next prune should reach: every tool result but those in the last `keep` turns. Results already pruned
 * stay pruned (what the request carries changes once, so a prompt cache keeps working after).
 */
export const pruneTo = (turns: ReadonlyArray<Turn>, state: Compacted, keep = 4): Compacted => ({
  ...state,
  pruned: Math.max(state.pruned, turns.length - keep)
})

/**
 * Where the next summarised span should end: the latest clean cut that leaves at most `keepTokens` of recent turns
 * verbatim (at least the last turn), after `through`; undefined when there is nothing to summarise.
 */
export const cutFor = (turns: ReadonlyArray<Turn>, state: Compacted, keepTokens: number): number | undefined => {
  let kept = 0
  let cut: number | undefined
  for (let i = turns.length - 1; i > state.through; i--) {
    kept += turnTokens(turns[i]!)
    if (kept > keepTokens && cut !== undefined) break
    if (cutsCleanly(turns, i)) cut = i
  }
  return cut
}

/** The system prompt of a summary request. */
export const SUMMARY_SYSTEM =
  "You summarise a conversation between a user and an AI assistant that acts with tools (reading and editing files, " +
  "running commands), so that the assistant can go on with the work from the summary alone. Keep: the user's goals, " +
  "requests and preferences, in their words where they matter; decisions made and why; the files read or changed, " +
  "with paths, and what was changed; commands run and what they showed, briefly; errors met and how they were solved; " +
  "what is done and what remains. Drop: pleasantries, repeated output, file contents that can be read again. " +
  "Write plain text in short sections, at most about 600 words. Never include keys, tokens or passwords."

/** Each part of the span as the summary request reads it: long results cut, calls named with their arguments. */
export const transcript = (turns: ReadonlyArray<Turn>, maxResult = 2_000): string =>
  turns.map((turn) => {
    const lines = turn.parts.flatMap((p): ReadonlyArray<string> => {
      switch (p.type) {
        case "text":
          return p.text.trim() === "" ? [] : [p.text.trim()]
        case "tool-call":
          return [`[called ${p.name} ${p.arguments.length > 500 ? `${p.arguments.slice(0, 500)}…` : p.arguments}]`]
        case "tool-result":
          return [`[${p.name} ${p.isError === true ? "failed" : "gave"}: ${p.output.length > maxResult ? `${p.output.slice(0, maxResult)}… (${p.output.length - maxResult} characters more)` : p.output}]`]
        default:
          return [] // reasoning and images are not carried into the summary
      }
    })
    return lines.length === 0 ? "" : `${turn.role === "user" ? "USER" : "ASSISTANT"}:\n${lines.join("\n")}`
  }).filter((t) => t !== "").join("\n\n")

/** The message of a summary request: the summary so far (anchored), then the span it must take in. */
export const summaryRequest = (previous: string | undefined, span: string, instructions: string | undefined): string =>
  [
    previous !== undefined
      ? `Here is the summary of the conversation so far:\n<summary>\n${previous}\n</summary>\n\nUpdate it with what happened next, below: keep what still matters from it, add what is new, and give the whole updated summary.`
      : "Summarise this conversation:",
    `<conversation>\n${span}\n</conversation>`,
    ...(instructions !== undefined && instructions.trim() !== "" ? [`The user asks that the summary: ${instructions.trim()}`] : [])
  ].join("\n\n")

/** Splits a transcript into pieces of at most `maxTokens` each (a summary request must itself fit the window). */
export const piecesOf = (text: string, maxTokens: number): ReadonlyArray<string> => {
  const max = Math.max(1_000, maxTokens * 4)
  const pieces: Array<string> = []
  let rest = text
  while (rest.length > max) {
    const at = rest.lastIndexOf("\n\n", max)
    const end = at > max / 2 ? at : max
    pieces.push(rest.slice(0, end))
    rest = rest.slice(end)
  }
  if (rest.trim() !== "") pieces.push(rest)
  return pieces
}
