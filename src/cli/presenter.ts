// How effect/cli's help, version and parse errors reach the terminal. Help that was asked for goes to stdout; a
// wrong invocation prints only its error and a pointer to --help on stderr, so scripts never get help text mixed
// into their output.
import { Console } from "effect"
import { CliOutput } from "effect/cli"

export const presenterLayer = (color: boolean) => {
  const formatter = CliOutput.defaultFormatter({ colors: color, globalFlags: "summary" })
  return CliOutput.layerPresenter({
    present: (event) => {
      switch (event._tag) {
        case "Help":
          return Console.log(formatter.formatHelpDoc(event.helpDoc))
        case "Version":
          return Console.log(formatter.formatVersion(event.name, event.version))
        case "InvalidInvocation": {
          const lines = event.errors.map((e) => `${color ? "\x1b[31merror:\x1b[0m" : "error:"} ${e.message}`)
          lines.push(`  Run \`${event.commandPath.join(" ")} --help\` for usage.`)
          return Console.error(lines.join("\n"))
        }
      }
    }
  })
}

