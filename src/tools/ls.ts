// LS: a directory's entries, directories marked with a trailing slash, sorted; long listings are cut, and said so.
import { Effect } from "effect"
import { readdirSync } from "node:fs"
import { type BuiltinTool, failed, str } from "./tool.ts"
import { resolvePath } from "./workspace.ts"

const MAX_ENTRIES = 1000

export const LS: BuiltinTool = {
  definition: {
    name: "LS",
    description: "List a directory (the working directory by default). Directories end with /.",
    parameters: {
      type: "object",
      properties: {
        directory_path: { type: "string", description: "The directory, absolute or relative to the working directory" },
        ignore: { type: "array", items: { type: "string" }, description: "Names to leave out" }
      }
    }
  },
  readOnly: true,
  risk: () => ({ risk: "read", why: "it lists a directory" }),
  subject: (args) => str(args, "directory_path") ?? ".",
  run: (args, ctx) =>
    Effect.sync(() => {
      const given = str(args, "directory_path") ?? "."
      const where = resolvePath(ctx, given)
      if ("refused" in where) return failed(where.refused, "outside the working directory")
      const ignore = new Set(Array.isArray(args["ignore"]) ? (args["ignore"] as Array<unknown>).filter((x): x is string => typeof x === "string") : [])
      let entries: Array<string>
      try {
        entries = readdirSync(where.path, { withFileTypes: true })
          .filter((e) => !ignore.has(e.name))
          .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
          .sort()
      } catch (error) {
        const code = (error as { code?: string }).code
        return failed(code === "ENOTDIR" ? `${given} is a file: use Read.` : `${given} does not exist or cannot be read.`)
      }
      const cut = entries.length > MAX_ENTRIES ? `\n[… ${entries.length - MAX_ENTRIES} more entries]` : ""
      return {
        output: entries.length === 0 ? `${given} is empty.` : entries.slice(0, MAX_ENTRIES).join("\n") + cut,
        isError: false,
        summary: `${entries.length} entr${entries.length === 1 ? "y" : "ies"}`
      }
    })
}
