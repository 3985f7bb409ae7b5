// The built-in tools, what a level offers the model, and running one call: its arguments read, its risk weighed
// against the level (a call above it is refused, and the model told why, so it can adapt), and its output passed
// through the redactor before it goes back, so that no configured key reaches a model through a tool.
import { Effect } from "effect"
import type { ToolCallPart, ToolDefinition } from "../providers/conversation.ts"
import { Edit, Create } from "./edit.ts"
import { Execute } from "./execute.ts"
import { LS } from "./ls.ts"
import { ApplyPatch } from "./patch.ts"
import { Read } from "./read.ts"
import { allows, AUTONOMY_LEVELS, levelFor, type Risk } from "../sandbox/levels.ts"
import { Glob, Grep } from "./search.ts"
import type { BuiltinTool, ToolContext, ToolOutcome } from "./tool.ts"

export const BUILTIN: ReadonlyArray<BuiltinTool> = [Read, LS, Glob, Grep, Create, Edit, ApplyPatch, Execute]

/** What the model is offered at a level: at off, the read tools and Execute (for read-only commands); else all. */
export const toolsFor = (level: ToolContext["level"]): ReadonlyArray<BuiltinTool> =>
  level === "off" ? BUILTIN.filter((t) => t.readOnly || t === Execute) : BUILTIN

export const definitionsOf = (tools: ReadonlyArray<BuiltinTool>): ReadonlyArray<ToolDefinition> => tools.map((t) => t.definition)

export interface CallOutcome extends ToolOutcome {
  readonly call: ToolCallPart
  /** The tool, when the model named one byok has. */
  readonly tool: BuiltinTool | undefined
  /** What the call is about, for the screen. */
  readonly subject: string
  /** The level forbade it (or it is blocked): not run. */
  readonly refused: boolean
}

/** A call's arguments as an object; the text the model wrote, when it is not one. */
const argumentsOf = (call: ToolCallPart): Record<string, unknown> | string => {
  try {
    const value: unknown = JSON.parse(call.arguments === "" ? "{}" : call.arguments)
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : "not a JSON object"
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`
  }
}

/** A call above the level, put to the user (the chat): run it once, not at all, or always for this session. */
export interface Approval {
  readonly tool: string
  readonly subject: string
  readonly risk: Risk
  readonly why: string
}
export type Approve = (request: Approval) => Effect.Effect<"yes" | "no" | "always">

/**
 * Runs one call the model asked for; never fails: every problem is an outcome the model reads. A call above the
 * level is refused, unless `approve` (the chat) is there to ask the user.
 */
export const runCall = (
  call: ToolCallPart,
  tools: ReadonlyArray<BuiltinTool>,
  ctx: ToolContext,
  redact: (text: string) => string,
  skipPermissions = false,
  approve?: Approve,
  /** Told when the call starts running (after any question), with what it is about; what it returns ends it. */
  running?: (name: string, subject: string) => Effect.Effect<Effect.Effect<void>>
): Effect.Effect<CallOutcome> => Effect.suspend(() => {
  const tool = tools.find((t) => t.definition.name === call.name)
  const base = { call, tool }
  if (tool === undefined) {
    return Effect.succeed({
      ...base,
      subject: "",
      refused: false,
      isError: true,
      summary: "no such tool",
      output: `There is no tool named ${call.name}. The tools are: ${tools.map((t) => t.definition.name).join(", ")}.`
    })
  }
  const args = argumentsOf(call)
  if (typeof args === "string") {
    return Effect.succeed({ ...base, subject: "", refused: false, isError: true, summary: "bad arguments", output: `The arguments are ${args}: give a JSON object.` })
  }
  const subject = redact(tool.subject(args))
  const { risk, why } = tool.risk(args, ctx)
  // A call runs at the level it needs: the session's, or (approved by the user) the call's own; the sandbox and the
  // tools' path checks follow it.
  const needed = levelFor(risk) ?? "high"
  const level = skipPermissions ? "high" : AUTONOMY_LEVELS.indexOf(needed) > AUTONOMY_LEVELS.indexOf(ctx.level) ? needed : ctx.level
  const started = running?.(call.name, subject) ?? Effect.succeed(Effect.void)
  const run = Effect.map(Effect.flatMap(started, (done) => Effect.ensuring(tool.run(args, level === ctx.level ? ctx : { ...ctx, level }), done)), (outcome) => ({
    ...outcome,
    ...base,
    subject,
    refused: false,
    // What goes back to the model (and to the screen) passes the redactor: no configured key leaves in it.
    output: redact(outcome.output),
    summary: redact(outcome.summary),
    ...(outcome.diff !== undefined ? { diff: redact(outcome.diff) } : {}),
    ...(outcome.tail !== undefined ? { tail: redact(outcome.tail) } : {})
  }))
  if (risk !== "blocked" && !skipPermissions && !allows(ctx.level, risk) && approve !== undefined) {
    return Effect.flatMap(approve({ tool: call.name, subject, risk, why }), (answer) =>
      answer === "no"
        ? Effect.succeed<CallOutcome>({
          ...base,
          subject,
          refused: true,
          isError: true,
          summary: "declined by the user",
          output: "Not run: the user declined this call. Ask them what they want instead, or do it another way."
        })
        : run)
  }
  if (risk === "blocked" || (!skipPermissions && !allows(ctx.level, risk))) {
    const denied = why.includes("commandDenylist")
    return Effect.succeed({
      ...base,
      subject,
      refused: true,
      isError: true,
      summary: risk !== "blocked" ? `refused: needs ${needed} (level ${ctx.level})` : denied ? "denied by commandDenylist" : "blocked at every level",
      output: risk === "blocked"
        ? `Not run: ${denied ? "the user's commandDenylist forbids it" : "byok blocks this at every autonomy level"} (${why}). ` +
          "No level allows it: do it another way, or tell the user what you need and why."
        : `Not run: this needs autonomy level ${needed} (${why}), and the level is ${ctx.level}. ` +
          "Do it another way within the level, or tell the user what you need and why."
    })
  }
  return run
})
