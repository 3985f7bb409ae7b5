// A separate process that writes N ledger rows as fast as it can: two of these at once must lose no row.
import { Effect } from "effect"
import { make } from "../../src/ledger/ledger.ts"
import { sampleRow } from "./rows.ts"

const [path, count, tag] = process.argv.slice(2)
const ledger = make(path!)
for (let i = 0; i < Number(count); i++) {
  await Effect.runPromise(ledger.record(sampleRow({ conversationId: `${tag}-${i}` })))
}
// What the ledger's layer does when byok ends: rows a busy ledger made wait get the ordinary wait.
const left = await Effect.runPromise(ledger.flush)
if (left > 0) {
  console.error(`${left} rows left unwritten`)
  process.exit(1)
}
