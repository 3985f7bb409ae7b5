// The help pages, made once when the binary is built (build.ts), so that the entry (main.ts) can print them before
// anything else loads, as it does the version: --help in about 5 ms rather than 16. They are what effect/cli
// prints for the same words, from the same command tree and formatter; test/e2e.test.ts compares the two in the
// built binary.
import { Effect } from "effect"
import { CliOutput, Command, type HelpDoc } from "effect/cli"
import { COMMANDS } from "./args.ts"
import { root } from "./commands.ts"
import { platformLayer } from "./platform.ts"
import { helpText } from "./presenter.ts"

export interface HelpPage {
  readonly plain: string
  readonly color: string
}

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
