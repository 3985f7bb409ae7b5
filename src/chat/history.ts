// The chat's input history, kept between runs: one JSON string per line in the data directory, newest last,
// trimmed to the last MAX entries when read. A history that cannot be read or written is simply not kept.
import { Effect, FileSystem } from "effect"
import { PRIVATE_DIR, PRIVATE_FILE, tighten } from "../lib/sqlite.ts"

export const MAX_HISTORY = 500

export const loadHistory = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => Effect.andThen(Effect.sync(() => tighten(path)), fs.readFileString(path))).pipe(
    Effect.map((text) =>
      text.split("\n").flatMap((line) => {
        try {
          const entry: unknown = JSON.parse(line)
          return typeof entry === "string" ? [entry] : []
        } catch {
          return []
        }
      }).slice(-MAX_HISTORY)
    ),
    Effect.orElseSucceed((): Array<string> => [])
  )

/** Adds an entry; the file (what the user typed) is private: 600 in a 700 directory, tightened if it was not. */
export const appendHistory = (path: string, entry: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.makeDirectory(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: PRIVATE_DIR }).pipe(
      Effect.andThen(fs.writeFileString(path, `${JSON.stringify(entry)}\n`, { flag: "a", mode: PRIVATE_FILE })),
      Effect.andThen(Effect.sync(() => tighten(path)))
    )).pipe(Effect.ignore)
