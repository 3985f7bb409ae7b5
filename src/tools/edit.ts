// Create and Edit: a new file, or an exact-string replacement in one. The text to replace must occur once (or
// replace_all must be asked for); when it does not, the model is told what is there. Both stay inside the working
// directory unless the level is high, and give the screen a diff of what changed.
import { count } from "../lib/text.ts"
import { Effect } from "effect"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { type BuiltinTool, failed, str } from "./tool.ts"
import { isInside } from "../lib/paths.ts"
import { isProtected, resolveWrite, shown } from "./workspace.ts"

/**
 * A unified-diff-like view of one change: the whole lines it touches, before and after, from the line it starts
 * at (a change inside a line shows that line twice, - and +).
 */
const diffOf = (path: string, before: string, at: number, oldText: string, newText: string): string => {
  const start = before.lastIndexOf("\n", at - 1) + 1
  const endAt = before.indexOf("\n", at + oldText.length)
  const end = endAt < 0 ? before.length : endAt
  const oldLines = before.slice(start, end)
  const newLines = before.slice(start, at) + newText + before.slice(at + oldText.length, end)
  const line = before.slice(0, start).split("\n").length
  const old = oldLines === "" && oldText === "" ? [] : oldLines.split("\n")
  const add = newLines === "" ? [] : newLines.split("\n")
  return [`--- ${path}`, `+++ ${path}`, `@@ -${line},${old.length} +${line},${add.length} @@`, ...old.map((l) => `-${l}`), ...add.map((l) => `+${l}`)].join("\n")
}

const writeRisk = (args: Record<string, unknown>, ctx: { readonly cwd: string }) => {
  const given = str(args, "file_path")
  const path = given === undefined ? undefined : resolve(ctx.cwd, given)
  return path !== undefined && !isInside(ctx.cwd, path)
    ? { risk: "high" as const, why: "it writes outside the working directory" }
    : path !== undefined && isProtected(ctx.cwd, path)
    ? { risk: "high" as const, why: "it writes .git/config, .git/hooks or .factory, whose code runs later as the user" }
    : { risk: "low" as const, why: "it writes a file in the working directory" }
}

export const Create: BuiltinTool = {
  definition: {
    name: "Create",
    description: "Create a new file with the given content (its folders too). It does not overwrite: use Edit to change a file.",
    parameters: {
      type: "object",
      properties: {
        file_path: { type: "string", description: "The new file, absolute or relative to the working directory" },
        content: { type: "string", description: "The whole content of the file" }
      },
      required: ["file_path", "content"]
    }
  },
  readOnly: false,
  risk: writeRisk,
  subject: (args) => str(args, "file_path") ?? "",
  run: (args, ctx) =>
    Effect.sync(() => {
      const given = str(args, "file_path")
      const content = str(args, "content")
      if (given === undefined || content === undefined) return failed("file_path and content are both needed.")
      const where = resolveWrite(ctx, given)
      if ("refused" in where) return failed(where.refused, "refused")
      if (existsSync(where.path)) return failed(`${given} exists already: use Edit to change it (Read it first).`, "exists")
      mkdirSync(dirname(where.path), { recursive: true })
      writeFileSync(where.path, content)
      const lines = content === "" ? 0 : content.split("\n").length - (content.endsWith("\n") ? 1 : 0)
      return {
        output: `Created ${shown(ctx.cwd, where.path)} (${count(lines, "line")}).`,
        isError: false,
        summary: count(lines, "line"),
        diff: diffOf(shown(ctx.cwd, where.path), "", 0, "", content.replace(/\n$/, ""))
      }
    })
}

export const Edit: BuiltinTool = {
  definition: {
    name: "Edit",
    description: "Replace exact text in a file: old_str must occur exactly once (give more surrounding lines to make it " +
      "unique), or set replace_all. Whitespace and indentation must match the file.",
    parameters: {
      type: "object",
      properties: {
        file_path: { type: "string" },
        old_str: { type: "string", description: "The exact text to replace" },
        new_str: { type: "string", description: "What replaces it" },
        replace_all: { type: "boolean", description: "Replace every occurrence" }
      },
      required: ["file_path", "old_str", "new_str"]
    }
  },
  readOnly: false,
  risk: writeRisk,
  subject: (args) => str(args, "file_path") ?? "",
  run: (args, ctx) =>
    Effect.sync(() => {
      const given = str(args, "file_path")
      const oldStr = str(args, "old_str")
      const newStr = str(args, "new_str")
      if (given === undefined || oldStr === undefined || newStr === undefined) return failed("file_path, old_str and new_str are all needed.")
      if (oldStr === "") return failed("old_str is empty: give the exact text to replace (use Create for a new file).")
      const where = resolveWrite(ctx, given)
      if ("refused" in where) return failed(where.refused, "refused")
      let text: string
      try {
        text = readFileSync(where.path, "utf8")
      } catch {
        return failed(`${given} does not exist: use Create for a new file.`, "no such file")
      }
      const count = text.split(oldStr).length - 1
      if (count === 0) {
        // Say what is there: the line most like the first line of old_str.
        const first = oldStr.split("\n").find((l) => l.trim() !== "")?.trim() ?? ""
        const common = (a: string) => {
          let n = 0
          while (n < a.length && n < first.length && a[n] === first[n]) n++
          return n
        }
        const near = text.split("\n").map((l, i) => ({ l, i, n: common(l.trim()) }))
          .filter(({ n }) => n >= Math.min(8, Math.ceil(first.length / 2)) && first !== "")
          .sort((a, b) => b.n - a.n)[0]
        return failed(
          `old_str was not found in ${given}.` +
            (near !== undefined ? ` The closest line is ${near.i + 1}: ${JSON.stringify(near.l.slice(0, 200))}. Read the file and copy the text exactly.` : " Read the file and copy the text exactly, whitespace included."),
          "not found"
        )
      }
      const all = args["replace_all"] === true
      if (count > 1 && !all) {
        const lines = text.split("\n")
        const at: Array<number> = []
        let from = 0
        for (let k = 0; k < count && at.length < 5; k++) {
          const index = text.indexOf(oldStr, from)
          at.push(text.slice(0, index).split("\n").length)
          from = index + 1
        }
        return failed(
          `old_str occurs ${count} times in ${given} (lines ${at.join(", ")}${count > at.length ? ", …" : ""}; ${lines.length} lines in all): ` +
            "add surrounding lines to make it unique, or set replace_all.",
          "not unique"
        )
      }
      const index = text.indexOf(oldStr)
      const updated = all ? text.split(oldStr).join(newStr) : text.slice(0, index) + newStr + text.slice(index + oldStr.length)
      writeFileSync(where.path, updated)
      return {
        output: `Edited ${shown(ctx.cwd, where.path)}: ${all ? `${count} replacements` : "1 replacement"}.`,
        isError: false,
        summary: all ? `${count} replacements` : `1 replacement`,
        diff: diffOf(shown(ctx.cwd, where.path), text, index, oldStr, newStr)
      }
    })
}
