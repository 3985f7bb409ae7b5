// `byok trust`: a project's own .factory files take effect only in a directory the user trusts (config/trust.ts).
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { UsageError } from "../config/errors.ts"
import { PROJECT_COMMANDS, PROJECT_FILES, PROJECT_MCP, projectOf, repositoryOf, setTrust, trustedDirs, wasAnswered } from "../config/trust.ts"
import { envVar } from "../lib/env.ts"
import { dataPlace } from "../lib/sqlite.ts"
import type { TrustInput } from "./inputs.ts"
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
    const dir = given !== undefined ? resolve(given) : projectOf(process.cwd(), process.env["HOME"]) ?? repositoryOf(process.cwd()) ?? process.cwd()
    if (!existsSync(dir)) return yield* new UsageError({ detail: `${dir} does not exist` })
    const home = process.env["HOME"]
    if (home !== undefined && resolve(home) === dir && !flags.revoke) {
      return yield* new UsageError({
        detail: `${dir} is your home directory: its .factory files are your own, and always read`,
        hint: "Run byok trust in a project (a directory with a .factory folder), or name one: byok trust DIR"
      })
    }
    yield* Effect.try({
      try: () => setTrust(place.path, dir, !flags.revoke),
      catch: (error) => new UsageError({ detail: `cannot write ${place.path}/trusted.json: ${(error as Error).message}` })
    })
    const files = [...PROJECT_FILES, PROJECT_MCP, PROJECT_COMMANDS].filter((f) => existsSync(`${dir}/${f}`))
    yield* printLine(
      flags.revoke
        ? `No longer trusted: ${dir}. Its .factory files are ignored again.`
        : `Trusted: ${dir}. ${files.length > 0 ? `Its ${files.join(", ")} now take effect` : "Its .factory files take effect"} ` +
          "(a ${VAR} or ${file:…} in them is never expanded, so none of your keys goes to a server they name)."
    )
  })

/**
 * The answer typed at the chat's trust question: one line from the terminal, in its ordinary (cooked) mode. Read
 * without blocking, so that Ctrl-C at the question ends byok as it does anywhere else.
 */
const readAnswer: Effect.Effect<string | undefined> = Effect.callback<string | undefined>((resume) => {
  const stop = () => {
    process.stdin.off("data", onData)
    process.stdin.off("end", onEnd)
    process.stdin.pause()
  }
  const onData = (chunk: Buffer | string) => {
    stop()
    resume(Effect.succeed(chunk.toString()))
  }
  const onEnd = () => {
    stop()
    resume(Effect.succeed(undefined))
  }
  process.stdin.on("data", onData)
  process.stdin.on("end", onEnd)
  process.stdin.resume()
  return Effect.sync(stop)
})

/**
 * The chat's question, asked once per project, at a terminal, before the settings are read: trust this project's
 * own files? A yes is `byok trust`; a no (or Enter) is kept too, so the question is not asked again, and the one
 * notice on stderr says how to trust it later. Not asked with --config or BYOK_CONFIG, or where nothing is kept.
 */
export const askToTrust = (explicitConfig: boolean) =>
  Effect.gen(function*() {
    if (explicitConfig || (yield* envVar("BYOK_CONFIG")) !== undefined) return
    if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) return
    const place = yield* dataPlace
    if (place._tag !== "Directory") return
    const dir = projectOf(process.cwd(), process.env["HOME"])
    if (dir === undefined || wasAnswered(place.path, dir)) return
    const present = [...PROJECT_FILES, PROJECT_MCP, PROJECT_COMMANDS].filter((f) => existsSync(`${dir}/${f}`))
    if (present.length === 0) return
    process.stdout.write(
      `${dir} has its own ${present.join(", ")}.\n` +
        "They can point a model at another server and run scripts of theirs. Trust this project? [y/N] "
    )
    // Ctrl-C at the question: the shell's prompt starts on a line of its own.
    const answer = yield* readAnswer.pipe(Effect.onInterrupt(() => Effect.sync(() => void process.stdout.write("\n"))))
    // No answer could be read (input closed): nothing is kept, and the question comes again next time.
    if (answer === undefined) {
      process.stdout.write("\n")
      return
    }
    const yes = /^\s*y(es)?\s*$/i.test(answer)
    yield* Effect.try({
      try: () => setTrust(place.path, dir, yes),
      catch: (error) => new UsageError({ detail: `cannot write ${place.path}/trusted.json: ${(error as Error).message}` })
    })
    process.stdout.write(yes ? "Trusted (byok trust --revoke takes it back).\n\n" : "Not trusted (byok trust trusts it later).\n\n")
  })
