// The hidden entry: `byok __sandbox` reads one job from stdin (a JSON line: the plan, the program, its argv),
// applies the plan (linux.ts) to this process and execve()s the program, which keeps it. byok's own executable is the
// sandbox helper, so no second binary ships; byok starts the next helper while the model thinks, so that its
// start-up is not paid when a command runs. Reached from main.ts before anything else loads, or (from source) directly.
import { writeSync } from "node:fs"
import { enter, type Plan, ready } from "./linux.ts"
import { SANDBOX_FAILED } from "./policy.ts"

/** The job's line; undefined when stdin closes first (byok ended and needed no more commands). */
const readJob = async (): Promise<string | undefined> => {
  const chunks: Array<Uint8Array> = []
  // (Not readSync: stdin may be non-blocking, and a helper waiting for its job must not spin.)
  for await (const chunk of Bun.stdin.stream()) {
    chunks.push(chunk)
    if (chunk.includes(10)) break
  }
  return chunks.length === 0 ? undefined : Buffer.concat(chunks).toString("utf8")
}

await ready()
const text = await readJob()
if (text === undefined) process.exit(0)
let failure: string
try {
  const job = JSON.parse(text) as { readonly plan: Plan; readonly file: string; readonly argv: ReadonlyArray<string> }
  failure = await enter(job.plan, job.file, job.argv)
} catch (error) {
  failure = String(error)
}
writeSync(2, `byok: the sandbox could not be applied (${failure}); the command was not run\n`)
process.exit(SANDBOX_FAILED)
