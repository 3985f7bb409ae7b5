// byok's FileSystem service (lib/fs.ts): the reasons its failures carry are the ones config.ts and history.ts read.
import { expect, test } from "bun:test"
import { Effect } from "effect"
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileSystem as fs } from "../src/lib/fs.ts"

const reason = <A>(effect: Effect.Effect<A, { readonly reason: { readonly _tag: string } }>) =>
  Effect.runPromise(Effect.flip(effect)).then((e) => e.reason._tag)

test("reads, appends, stats; a missing file, a directory and a dangling link each say what they are", async () => {
  const dir = mkdtempSync(join(tmpdir(), "byok-fs-"))
  const file = join(dir, "a", "b.txt")
  await Effect.runPromise(fs.makeDirectory(join(dir, "a"), { recursive: true }))
  await Effect.runPromise(fs.writeFileString(file, "one\n"))
  await Effect.runPromise(fs.writeFileString(file, "two\n", { flag: "a" }))
  expect(await Effect.runPromise(fs.readFileString(file))).toBe("one\ntwo\n")
  writeFileSync(join(dir, "key"), "x", { mode: 0o644 })
  const info = await Effect.runPromise(fs.stat(join(dir, "key")))
  expect({ type: info.type, mode: info.mode & 0o777 }).toEqual({ type: "File", mode: 0o644 })

  expect(await reason(fs.readFileString(join(dir, "missing")))).toBe("NotFound")
  expect(await reason(fs.readFileString(join(dir, "a")))).toBe("BadResource")
  symlinkSync(join(dir, "gone"), join(dir, "link"))
  expect(await reason(fs.readFileString(join(dir, "link")))).toBe("NotFound")
  expect(await Effect.runPromise(fs.readLink(join(dir, "link")))).toBe(join(dir, "gone"))
  expect(await Effect.runPromise(fs.exists(join(dir, "link")))).toBe(false)
  expect(await Effect.runPromise(fs.exists(file))).toBe(true)
})
