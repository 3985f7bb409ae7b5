// The help pages and the version line, made when the binary is built (build.ts) so that the entry (main.ts) can
// print them before anything else loads: --help in about 5 ms rather than 16. They are what effect/cli
// prints for the same words, from the same command tree and formatter; test/e2e.test.ts compares the two in the
// built binary.
import { Effect } from "effect"
import { CliOutput, Command, type HelpDoc } from "effect/cli"
import { COMMANDS } from "./args.ts"
import { root } from "./commands.ts"
import { platformLayer } from "./platform.ts"
import { formatterFor, helpText } from "./presenter.ts"

/** What the entry prints, as it is printed with colour and without. */
export interface HelpPage {
  readonly plain: string
  readonly color: string
}

/** The version line effect/cli prints for `byok --version` (its formatVersion), for a given version line. */
export const versionPage = (line: string): HelpPage => ({
  plain: `${formatterFor(false).formatVersion("byok", line)}\n`,
  color: `${formatterFor(true).formatVersion("byok", line)}\n`
})

/** Each command's help page, plain and in colour, with byok's own under "". */
export const helpPages: Effect.Effect<Record<string, HelpPage>> = Effect.gen(function*() {
  const pages: Record<string, HelpPage> = {}
  for (const command of ["", ...COMMANDS]) {
    let doc: HelpDoc.HelpDoc | undefined
    const capture = CliOutput.layerPresenter({
      present: (event) => Effect.sync(() => void (event._tag === "Help" && (doc = event.helpDoc)))
    })
    yield* Command.runWith(root, { version: "" })(command === "" ? ["--help"] : [command, "--help"]).pipe(
      Effect.provide(capture),
      Effect.orDie
    )
    if (doc === undefined) return yield* Effect.die(new Error(`effect/cli showed no help for "byok ${command} --help"`))
    pages[command] = { plain: `${helpText(doc, false)}\n`, color: `${helpText(doc, true)}\n` }
  }
  return pages
}).pipe(Effect.provide(platformLayer))
