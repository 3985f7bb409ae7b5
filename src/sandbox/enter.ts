// The hidden entry: `byok __sandbox PLAN FILE ARGV…` applies the plan (linux.ts) to this process and execve()s the
// command, which keeps it. byok's own executable is the sandbox helper, so no second binary ships. Reached from
// main.ts before anything else loads, or (from source) run directly.
import { writeSync } from "node:fs"
import { enter, type Plan } from "./linux.ts"
import { SANDBOX_FAILED } from "./policy.ts"


// argv: … __sandbox PLAN FILE ARGV0 ARGS…
const [, , , planText = "", file = "", ...argv] = process.argv
let failure: string
try {
  failure = await enter(JSON.parse(planText) as Plan, file, argv)
} catch (error) {
  failure = String(error)
}
writeSync(2, `byok: the sandbox could not be applied (${failure}); the command was not run\n`)
process.exit(SANDBOX_FAILED)
