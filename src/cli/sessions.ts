// `byok sessions`: the saved conversations, newest first, to resume with `byok -s ID` or `byok exec -s ID`.
import { Effect } from "effect"
import { SessionStore } from "../chat/sessions.ts"
import { UsageError } from "../config/errors.ts"
import { displayWidth, padEnd } from "../lib/width.ts"
import type { SessionsInput } from "./inputs.ts"
import { isoMinute, printJson, printLine } from "./render.ts"
import { withServices } from "./services.ts"

export const runSessions = (flags: SessionsInput) =>
  Effect.gen(function*() {
    if (flags.limit < 1) {
      return yield* new UsageError({ detail: `--limit must be a whole number of 1 or more, got ${flags.limit}` })
    }
    const sessions = yield* SessionStore
    const list = yield* sessions.list(flags.limit)
    if (flags.json) {
      return yield* printJson(list.map((s) => ({
        id: s.id,
        title: s.title,
        model: s.modelName,
        messages: s.messages,
        created: new Date(s.created).toISOString(),
        updated: new Date(s.updated).toISOString()
      })))
    }
    if (list.length === 0) return yield* printLine("No saved conversations yet. Start one with `byok`.")
    const rows = list.map((s) => [
      s.id.slice(0, 8),
      isoMinute(s.updated),
      String(s.messages),
      s.modelName,
      s.title
    ])
    const header = ["ID", "UPDATED", "MSGS", "MODEL", "FIRST MESSAGE"]
    const widths = header.map((h, c) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[c]!))))
    yield* printLine(
      [header, ...rows].map((r) => r.map((cell, c) => padEnd(cell, widths[c]!)).join("  ").trimEnd()).join("\n")
    )
  }).pipe(withServices)
