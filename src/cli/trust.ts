// `byok trust`: a project's own .factory files take effect only in a directory the user trusts (config/trust.ts).
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { UsageError } from "../config/errors.ts"
import { PROJECT_COMMANDS, PROJECT_FILES, projectOf, setTrust, trustedDirs } from "../config/trust.ts"
import { dataPlace } from "../lib/sqlite.ts"
import type { TrustInput } from "./commands.ts"
import { printLine } from "./render.ts"

export const runTrust = (flags: TrustInput) =>
  Effect.gen(function*() {
    const place = yield* dataPlace
    if (place._tag !== "Directory") {
      return yield* new UsageError({
        detail: "byok has nowhere to keep what you trust (no HOME, XDG_DATA_HOME or BYOK_HOME, or BYOK_NO_RECORD)",
        hint: "Set BYOK_HOME to a writable directory."
      })
    }
    if (flags.list) {
      const dirs = trustedDirs(place.path)
      return yield* printLine(dirs.length === 0 ? "No trusted directories." : dirs.join("\n"))
    }
    const given = flags.dir[0]
    const dir = given !== undefined ? resolve(given) : projectOf(process.cwd(), process.env["HOME"]) ?? process.cwd()
    if (!existsSync(dir)) return yield* new UsageError({ detail: `${dir} does not exist` })
    yield* Effect.try({
      try: () => setTrust(place.path, dir, !flags.revoke),
      catch: (error) => new UsageError({ detail: `cannot write ${place.path}/trusted.json: ${(error as Error).message}` })
    })
    const files = [...PROJECT_FILES, PROJECT_COMMANDS].filter((f) => existsSync(`${dir}/${f}`))
    yield* printLine(
      flags.revoke
        ? `No longer trusted: ${dir}. Its .factory files are ignored again.`
        : `Trusted: ${dir}. ${files.length > 0 ? `Its ${files.join(", ")} now take effect` : "Its .factory files take effect"} ` +
          "(a ${VAR} or ${file:…} in them is never expanded, so none of your keys goes to a server they name)."
    )
  })
