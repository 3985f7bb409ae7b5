// A tool call as the screen shows it: one compact line (what ran, on what, how it went), an edit's diff in colour,
// and the last lines of a command's output, dimmed. exec writes it to stderr; the chat to the terminal.
import type { Turn } from "../providers/conversation.ts"
import { stripControls } from "../lib/controls.ts"
import { count } from "../lib/text.ts"
import { BUILTIN, type CallOutcome } from "../tools/registry.ts"

export const callLine = (o: CallOutcome, color: boolean): string => {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s)
  // The tool's name, the subject, a diff and a command's output are the model's or a program's text: no control
  // sequence from them (a name the model made up reaches here too, as "no such tool").
  const safe = stripControls
  const mark = o.refused ? paint("31", "✗") : o.isError ? paint("33", "!") : paint("32", "→")
  const subject = safe(o.subject.length > 120 ? `${o.subject.slice(0, 117)}…` : o.subject).replace(/\n/g, " ")
  const lines = [`${mark} ${safe(o.call.name)}${subject !== "" ? ` ${subject}` : ""} · ${safe(o.summary)}`]
  if (o.diff !== undefined) {
    // (cut before the stripper sees it: a 10 MB file made by Create is a 10 MB diff)
    const body = o.diff.split("\n").slice(2)
    const shown = body.length <= DIFF_HEAD + DIFF_TAIL + 1
      ? body
      : [...body.slice(0, DIFF_HEAD), `[… ${body.length - DIFF_HEAD - DIFF_TAIL} lines not shown …]`, ...body.slice(-DIFF_TAIL)]
    lines.push(...shown.map((l) => paint(l.startsWith("+") ? "32" : l.startsWith("-") ? "31" : "2", `  ${safe(narrow(l))}`)))
  } else if (o.tail !== undefined && o.tail !== "") {
    lines.push(...o.tail.split("\n").map((l) => paint("2", `  ${safe(narrow(l))}`)))
  }
  return `${lines.join("\n")}\n`
}

/** A diff on the screen: its first and last lines, the cut said between them. */
const DIFF_HEAD = 30
const DIFF_TAIL = 8
/** A line wider than this is cut, and the cut said: one line of a minified file can be megabytes. */
const MAX_WIDTH = 400

const narrow = (line: string) => (line.length <= MAX_WIDTH ? line : `${line.slice(0, MAX_WIDTH)} [… ${line.length - MAX_WIDTH} characters not shown]`)

/**
 * A saved conversation's turns as the chat drew them live: each message's text, and each call the model made as its
 * line, with what its result said (ran, failed, refused, stopped, or not run). The results' own turns are not drawn.
 */
export const replayLines = (turns: ReadonlyArray<Turn>, color: boolean, user: (text: string) => string, interrupted: (i: number) => boolean): ReadonlyArray<string> => {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s)
  const lines: Array<string> = []
  turns.forEach((turn, i) => {
    const text = turn.parts.flatMap((p) => (p.type === "text" && p.text.trim() !== "" ? [p.text.trim()] : [])).join("\n")
    if (turn.role === "user") {
      if (text !== "") lines.push(user(stripControls(text)))
      return
    }
    if (text !== "") lines.push(`${stripControls(text)}${interrupted(i) ? paint("2", " [interrupted]") : ""}`)
    const results = turns[i + 1]?.parts ?? []
    for (const part of turn.parts) {
      if (part.type !== "tool-call") continue
      const result = results.find((r) => r.type === "tool-result" && r.callId === part.id)
      let subject = ""
      try {
        const args: unknown = JSON.parse(part.arguments === "" ? "{}" : part.arguments)
        const tool = BUILTIN.find((t) => t.definition.name === part.name)
        if (tool !== undefined && typeof args === "object" && args !== null) subject = tool.subject(args as Record<string, unknown>)
      } catch {
        // arguments the model wrote wrong: the line names the tool alone
      }
      const output = result?.type === "tool-result" ? result.output : undefined
      const failedCall = result?.type === "tool-result" && result.isError === true
      const summary = output === undefined
        ? "not run"
        : output.startsWith("The user stopped this call")
        ? "stopped"
        : output.startsWith("Not run:")
        ? "refused"
        : failedCall
        ? "failed"
        : count(output.split("\n").length, "line")
      const mark = summary === "refused" ? paint("31", "✗") : failedCall || output === undefined ? paint("33", "!") : paint("32", "→")
      const shown = stripControls(subject.length > 120 ? `${subject.slice(0, 117)}…` : subject).replace(/\n/g, " ")
      lines.push(`${mark} ${stripControls(part.name)}${shown !== "" ? ` ${shown}` : ""} · ${summary}`)
    }
  })
  return lines
}
