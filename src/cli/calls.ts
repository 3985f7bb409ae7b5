// A tool call as the screen shows it: one compact line (what ran, on what, how it went), an edit's diff in colour,
// and the last lines of a command's output, dimmed. exec writes it to stderr; the chat to the terminal.
import { stripControls } from "../lib/controls.ts"
import type { CallOutcome } from "../tools/registry.ts"

export const callLine = (o: CallOutcome, color: boolean): string => {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s)
  // The tool's name, the subject, a diff and a command's output are the model's or a program's text: no control
  // sequence from them (a name the model made up reaches here too, as "no such tool").
  const safe = stripControls
  const mark = o.refused ? paint("31", "✗") : o.isError ? paint("33", "!") : paint("32", "→")
  const subject = safe(o.subject.length > 120 ? `${o.subject.slice(0, 117)}…` : o.subject).replace(/\n/g, " ")
  const lines = [`${mark} ${safe(o.call.name)}${subject !== "" ? ` ${subject}` : ""} · ${safe(o.summary)}`]
  if (o.diff !== undefined) {
    lines.push(...safe(o.diff).split("\n").slice(2, 40).map((l) => paint(l.startsWith("+") ? "32" : l.startsWith("-") ? "31" : "2", `  ${l}`)))
  } else if (o.tail !== undefined && o.tail !== "") {
    lines.push(...safe(o.tail).split("\n").map((l) => paint("2", `  ${l}`)))
  }
  return `${lines.join("\n")}\n`
}
