// Slash commands of the chat: what each does, and the parser from an input line to a message or a command.
// An unknown command is not sent to the model: it is reported with the closest known one.
import { closest } from "../lib/text.ts"
import type { CustomCommand } from "./custom.ts"

export interface CommandSpec {
  readonly name: string
  readonly args: string
  readonly summary: string
  readonly aliases?: ReadonlyArray<string>
}

export const COMMANDS: ReadonlyArray<CommandSpec> = [
  { name: "help", args: "", summary: "the commands and keys", aliases: ["?"] },
  { name: "model", args: "[N|NAME]", summary: "list the models, or switch to one by number or name" },
  { name: "cost", args: "", summary: "tokens, cost, cache hit rate and savings: this conversation and all time" },
  { name: "stats", args: "[on|off]", summary: "the line after each answer: tokens, cache, cost, time" },
  { name: "max-tokens", args: "[N]", summary: "the most output tokens per answer, for this chat" },
  { name: "effort", args: "[off|none|low|medium|high]", summary: "how hard the model thinks, for this chat" },
  { name: "image", args: "PATH", summary: "attach an image (PNG, JPEG, GIF, WebP) to your next message" },
  { name: "auto", args: "[off|low|medium|high]", summary: "let the model act with byok's tools at this level" },
  { name: "context", args: "", summary: "how full the model's context window is, and of what" },
  { name: "compact", args: "[INSTRUCTIONS]", summary: "summarise the conversation so far now, steered by the instructions" },
  { name: "sandbox", args: "", summary: "what commands the model runs may write, read and reach, at the level in force" },
  { name: "mcp", args: "[NAME]", summary: "the MCP servers and their state; /mcp NAME starts one and lists its tools" },
  { name: "clear", args: "", summary: "start a new conversation", aliases: ["new"] },
  { name: "sessions", args: "", summary: "list saved conversations (resume one with byok -s ID)" },
  { name: "exit", args: "", summary: "leave (also Ctrl-D, or Ctrl-C on an empty line)", aliases: ["quit", "q"] }
]

export type Parsed =
  | { readonly kind: "empty" }
  | { readonly kind: "message"; readonly text: string }
  | { readonly kind: "command"; readonly name: string; readonly arg: string }
  | { readonly kind: "custom"; readonly command: CustomCommand; readonly arg: string }
  | { readonly kind: "unknown"; readonly name: string; readonly suggestion: string | undefined }

const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])])

/**
 * A line → what to do with it. `//text` sends "/text" to the model. byok's own commands come before the user's
 * custom ones (chat/custom.ts) of the same name.
 */
export const parseInput = (line: string, custom: ReadonlyArray<CustomCommand> = []): Parsed => {
  const text = line.trim()
  if (text === "") return { kind: "empty" }
  if (!text.startsWith("/") || text.startsWith("//")) {
    return { kind: "message", text: text.startsWith("//") ? line.trimEnd().replace(/^\s*\//, "") : line.trimEnd() }
  }
  const [, name = "", arg = ""] = /^\/(\S*)\s*([\s\S]*)$/.exec(text) ?? []
  const lower = name.toLowerCase()
  const spec = COMMANDS.find((c) => c.name === lower || c.aliases?.includes(lower))
  if (spec !== undefined) return { kind: "command", name: spec.name, arg: arg.trim() }
  const own = custom.find((c) => c.name === lower)
  if (own !== undefined) return { kind: "custom", command: own, arg: arg.trim() }
  const guess = closest(lower, [...names, ...custom.map((c) => c.name)])
  const suggestion = guess === undefined
    ? undefined
    : COMMANDS.find((c) => c.name === guess || c.aliases?.includes(guess))?.name ?? guess
  return { kind: "unknown", name, suggestion }
}

/** Tab completion: a unique command (byok's or a custom one) for a `/pre` prefix, with a trailing space. */
export const completeCommand = (buffer: string, custom: ReadonlyArray<CustomCommand> = []): string | undefined => {
  if (!/^\/\S*$/.test(buffer)) return undefined
  const prefix = buffer.slice(1).toLowerCase()
  const matches = [...new Set([...COMMANDS.map((c) => c.name), ...custom.map((c) => c.name)])].filter((n) => n.startsWith(prefix))
  return matches.length === 1 ? `/${matches[0]!} ` : undefined
}

/** The widest command column; a longer one (a long argument hint) puts its summary on the next line, aligned. */
const MAX_COLUMN = 28

/** Rows of `/command args` and a summary, the summaries in one column whatever the lengths. */
const columns = (rows: ReadonlyArray<readonly [string, string]>): ReadonlyArray<string> => {
  const width = Math.min(MAX_COLUMN, Math.max(...rows.map(([left]) => left.length)))
  return rows.flatMap(([left, right]) =>
    left.length <= width ? [`  ${left.padEnd(width)}  ${right}`] : [`  ${left}`, `  ${" ".repeat(width)}  ${right}`]
  )
}

export const helpText = (custom: ReadonlyArray<CustomCommand> = []): string =>
  [
    "Commands:",
    ...columns(COMMANDS.map((c) => [`/${`${c.name} ${c.args}`.trim()}`, c.summary])),
    ...(custom.length > 0
      ? [
        "",
        "Your commands (~/.factory/commands, and the trusted project's .factory/commands):",
        ...columns(custom.map((c) => [`/${`${c.name} ${c.argumentHint}`.trim()}`, `${c.description}${c.scope === "project" ? " (project)" : ""}`]))
      ]
      : []),
    "",
    "Keys:",
    "  Enter              send",
    "  Alt+Enter, Ctrl+J  new line (or end a line with \\ and press Enter); pasted text is kept whole",
    "  Up, Down           previous and next input (history is kept between runs)",
    "  Ctrl+C             stop the answer; on an empty line, leave",
    "  Ctrl+D             leave (on an empty line)",
    "  Tab                complete a /command",
    "  //text             send text that starts with a slash"
  ].join("\n")
