// How effect/cli's help, version and parse errors reach the terminal. Help that was asked for goes to stdout; a
// wrong invocation prints only its error and a pointer to --help on stderr, so scripts never get help text mixed
// into their output. Both leave by the one redacting exit (the `stdio` the commands write through).
import { Effect, Stdio } from "effect"
import { CliOutput, type HelpDoc } from "effect/cli"
import { printLine } from "./render.ts"
import { writeErr } from "./term.ts"

const HIDDEN = new Set(["wizard", "log-level"])

/** effect/cli's formatter as byok uses it, with colour or without. */
export const formatterFor = (color: boolean) => CliOutput.defaultFormatter({ colors: color, globalFlags: "summary" })

/** A command's help as byok prints it (without the final newline). */
export const helpText = (helpDoc: HelpDoc.HelpDoc, color: boolean): string =>
  formatterFor(color).formatHelpDoc({
    ...helpDoc,
    // effect/cli's built-in --wizard and --log-level do nothing byok's users need: out of help
    // (they still parse). --help, --version and --completions stay.
    ...(helpDoc.globalFlags !== undefined ? { globalFlags: helpDoc.globalFlags.filter((f) => !HIDDEN.has(f.name)) } : {})
  })

export const presenterLayer = (color: boolean, stdio: Stdio.Stdio) => {
  const formatter = formatterFor(color)
  return CliOutput.layerPresenter({
    present: (event) => {
      switch (event._tag) {
        case "Help":
          return printLine(helpText(event.helpDoc, color)).pipe(Effect.ignore, Effect.provideService(Stdio.Stdio, stdio))
        case "Version":
          return printLine(formatter.formatVersion(event.name, event.version)).pipe(
            Effect.ignore,
            Effect.provideService(Stdio.Stdio, stdio)
          )
        case "InvalidInvocation": {
          const lines = event.errors.map((e) => `${color ? "\x1b[31merror:\x1b[0m" : "error:"} ${e.message}`)
          lines.push(`  Run \`${event.commandPath.join(" ")} --help\` for usage.`)
          return writeErr(`${lines.join("\n")}\n`).pipe(Effect.provideService(Stdio.Stdio, stdio))
        }
      }
    }
  })
}
