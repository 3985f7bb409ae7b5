// The session store: a saved conversation is named by its id or any unique prefix of it (`byok -s 1a2b`), and a
// prefix that several share is refused with the ones it names; its title is the label given, else the first prompt.
import { describe, expect, test } from "bun:test"
import { Effect, Result } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AmbiguousSession, make, storedMessage } from "../src/chat/sessions.ts"
import { makeEntry, turn } from "./lib/provider.ts"

const A = "aaaa1111-0000-4000-8000-000000000001"
const B = "aaaa2222-0000-4000-8000-000000000002"

const store = async () => {
  const sessions = make(join(mkdtempSync(join(tmpdir(), "byok-sessions-")), "sessions.db"))
  const entry = makeEntry()
  await Effect.runPromise(sessions.append({ id: A, system: undefined }, [storedMessage(entry, turn("user", "first of A"), 1)]))
  await Effect.runPromise(
    sessions.append({ id: B, system: undefined, title: "the label" }, [storedMessage(entry, turn("user", "piped text\n\nthe label"), 2)])
  )
  return sessions
}

describe("saved conversations", () => {
  test("an id or a unique prefix of it names one; a prefix several share is refused, listing them", async () => {
    const sessions = await store()
    expect((await Effect.runPromise(sessions.load(A)))?.id).toBe(A)
    expect((await Effect.runPromise(sessions.load("aaaa1")))?.id).toBe(A)
    expect((await Effect.runPromise(sessions.load("aaaa2")))?.id).toBe(B)
    expect(await Effect.runPromise(sessions.load("bbbb"))).toBeUndefined()
    // LIKE's wildcards in what the user typed are taken as characters.
    expect(await Effect.runPromise(sessions.load("%"))).toBeUndefined()
    const ambiguous = await Effect.runPromise(Effect.result(sessions.load("aaaa")))
    expect(Result.isFailure(ambiguous)).toBe(true)
    const error = (ambiguous as { failure: unknown }).failure
    expect(error).toBeInstanceOf(AmbiguousSession)
    expect((error as AmbiguousSession).matches).toEqual(expect.arrayContaining([A, B]))
  })

  test("a conversation's title is its label when given, else its first prompt", async () => {
    const sessions = await store()
    const titles = await Effect.runPromise(sessions.titles([A, B]))
    expect(titles.get(A)).toBe("first of A")
    expect(titles.get(B)).toBe("the label")
  })
})
