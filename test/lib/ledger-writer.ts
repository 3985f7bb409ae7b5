// A separate process that writes N ledger rows as fast as it can: two of these at once must lose no row.
import { Effect } from "effect"
import { make } from "../../src/ledger/ledger.ts"
import { sampleRow } from "./rows.ts"

const [path, count, tag] = process.argv.slice(2)
const ledger = make(path!)
for (let i = 0; i < Number(count); i++) {
  await Effect.runPromise(ledger.record(sampleRow({ conversationId: `${tag}-${i}` })))
}
