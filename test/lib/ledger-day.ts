// A separate process (its time zone set by TZ before it starts) that records rows at the given times and prints,
// for each, the day the ledger stored and the local day JavaScript gives.
import { Database } from "bun:sqlite"
import { Effect } from "effect"
import { make } from "../../src/ledger/ledger.ts"
import { localDay } from "../../src/ledger/schema.ts"
import { sampleRow } from "./rows.ts"

const [path, ...times] = process.argv.slice(2)
const ledger = make(path!)
for (const ts of times) await Effect.runPromise(ledger.record(sampleRow({ ts: Number(ts) })))
await Effect.runPromise(ledger.close)
const stored = new Database(path!, { readonly: true }).query("SELECT ts, day FROM requests ORDER BY id").all() as Array<{ ts: number; day: string }>
console.log(JSON.stringify(stored.map((r) => ({ ts: r.ts, stored: r.day, local: localDay(r.ts) }))))
