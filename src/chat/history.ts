// The chat's input history, kept between runs: one JSON string per line in the data directory, newest last,
// trimmed to the last MAX entries when read. A history that cannot be read or written is simply not kept.
import { Effect, FileSystem } from "effect"

export const MAX_HISTORY = 500

export const loadHistory = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path)).pipe(
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

export const appendHistory = (path: string, entry: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.makeDirectory(path.slice(0, path.lastIndexOf("/")), { recursive: true }).pipe(
      Effect.andThen(fs.writeFileString(path, `${JSON.stringify(entry)}\n`, { flag: "a" }))
    )).pipe(Effect.ignore)
