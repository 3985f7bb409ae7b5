// What a built-in tool is: its definition for the model (name, description, JSON Schema), the risk of a given call
// (risk.ts), and its run, which returns a value: the output the model gets back and a one-line summary for the
// screen. A tool never writes to the terminal. Results are sized for a model's context, with any cut said in them.
import type { Effect } from "effect"
import type { ImagePart, ToolDefinition } from "../providers/conversation.ts"
import type { Sandbox } from "../sandbox/sandbox.ts"
import type { Autonomy, CommandRules, Risk } from "../sandbox/levels.ts"

export interface ToolContext {
  /** The working directory: writes and commands stay inside it unless the level is high. */
  readonly cwd: string
  readonly level: Autonomy
  readonly rules: CommandRules
  /** What commands run in (sandbox/): absent, they run as byok does, with its environment. */
  readonly sandbox?: Sandbox | undefined
  /** Stops a running command (its whole process group). */
  readonly signal?: AbortSignal | undefined
  /** Told what a command had printed when the user stopped it (its run was interrupted), for the model. */
  readonly onStopped?: ((partial: string) => void) | undefined
}

export interface ToolOutcome {
  /** What the model gets back. */
  readonly output: string
  readonly isError: boolean
  /** One line for the screen: `56 lines`, `exit 1 · 3.2 s`. */
  readonly summary: string
  /** A unified diff of what an edit changed, for the screen. */
  readonly diff?: string | undefined
  /** The end of a command's output, for the screen. */
  readonly tail?: string | undefined
  /** Images the tool gave back (an MCP server's): sent to the model after the results, where it takes images. */
  readonly images?: ReadonlyArray<ImagePart> | undefined
}

export interface BuiltinTool {
  readonly definition: ToolDefinition
  /** Whether every call only reads (parallel read-only calls may run at once). */
  readonly readOnly: boolean
  /** The risk of this call and why; a call whose arguments are wrong is "read" (it fails on its own). */
  readonly risk: (args: Record<string, unknown>, ctx: ToolContext) => { readonly risk: Risk; readonly why: string }
  /** What the call is about, for the screen: a path, a command. */
  readonly subject: (args: Record<string, unknown>) => string
  readonly run: (args: Record<string, unknown>, ctx: ToolContext) => Effect.Effect<ToolOutcome>
}

/** The most characters a tool gives back; more is cut, and the cut said. */
export const MAX_OUTPUT = 30_000

/** Text kept as its head and tail when it is longer than `max`, with the cut said between them. */
export const headAndTail = (text: string, max = MAX_OUTPUT): string => {
  if (text.length <= max) return text
  const half = Math.floor(max / 2)
  return `${text.slice(0, half)}\n[… ${text.length - max} characters cut …]\n${text.slice(-half)}`
}

export const failed = (output: string, summary = "failed"): ToolOutcome => ({ output, isError: true, summary })

/** A string argument, or undefined. */
export const str = (args: Record<string, unknown>, name: string): string | undefined =>
  typeof args[name] === "string" ? (args[name] as string) : undefined

/** A whole number argument, or undefined. */
export const int = (args: Record<string, unknown>, name: string): number | undefined => {
  const v = args[name]
  return typeof v === "number" && Number.isInteger(v) ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined
}
