// ApplyPatch: the patch format OpenAI's models are trained on (codex's apply_patch): files added, deleted, or
// updated by hunks of context, removed and added lines, each located in the file by its lines (not line numbers),
// from where the previous hunk ended; trailing whitespace is forgiven when nothing matches exactly. Every file
// must be inside the working directory unless the level is high; nothing is written unless every hunk applies.
import { count } from "../lib/text.ts"
import { Effect } from "effect"
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { type BuiltinTool, failed, str } from "./tool.ts"
import { isInside } from "../lib/paths.ts"
import { isProtected, resolveWrite, shown } from "./workspace.ts"

type Hunk = { readonly context: string | undefined; readonly lines: ReadonlyArray<string> }
type Op =
  | { readonly kind: "add"; readonly path: string; readonly lines: ReadonlyArray<string> }
  | { readonly kind: "delete"; readonly path: string }
  | { readonly kind: "update"; readonly path: string; readonly moveTo: string | undefined; readonly hunks: ReadonlyArray<Hunk> }

/** The patch's operations, or what is wrong with it. */
export const parsePatch = (text: string): ReadonlyArray<Op> | string => {
  const lines = text.replace(/\r\n/g, "\n").split("\n")
  let i = lines.findIndex((l) => l.trim() === "*** Begin Patch")
  if (i < 0) return "the patch must start with *** Begin Patch"
  const ops: Array<Op> = []
  for (i++; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === "*** End Patch") return ops
    let m: RegExpExecArray | null
    if ((m = /^\*\*\* Add File: (.+)$/.exec(line)) !== null) {
      const body: Array<string> = []
      while (i + 1 < lines.length && lines[i + 1]!.startsWith("+")) body.push(lines[++i]!.slice(1))
      ops.push({ kind: "add", path: m[1]!.trim(), lines: body })
    } else if ((m = /^\*\*\* Delete File: (.+)$/.exec(line)) !== null) {
      ops.push({ kind: "delete", path: m[1]!.trim() })
    } else if ((m = /^\*\*\* Update File: (.+)$/.exec(line)) !== null) {
      let moveTo: string | undefined
      const move = /^\*\*\* Move to: (.+)$/.exec(lines[i + 1] ?? "")
      if (move !== null) {
        moveTo = move[1]!.trim()
        i++
      }
      const hunks: Array<Hunk> = []
      let current: { context: string | undefined; lines: Array<string> } | undefined
      while (i + 1 < lines.length && !lines[i + 1]!.startsWith("*** ")) {
        const l = lines[++i]!
        if (l.startsWith("@@")) {
          if (current !== undefined && current.lines.length > 0) hunks.push(current)
          const context = l.slice(2).trim()
          current = { context: context === "" ? undefined : context, lines: [] }
        } else {
          current ??= { context: undefined, lines: [] }
          if (l === "" && i + 1 < lines.length && lines[i + 1]!.startsWith("*** ")) continue
          current.lines.push(l === "" ? " " : l)
        }
      }
      if (current !== undefined && current.lines.length > 0) hunks.push(current)
      if (hunks.length === 0) return `the update of ${m[1]} has no hunks`
      ops.push({ kind: "update", path: m[1]!.trim(), moveTo, hunks })
    } else if (line.trim() !== "") {
      return `line ${i + 1} is not part of the patch format: ${JSON.stringify(line.slice(0, 80))}`
    }
  }
  return "the patch must end with *** End Patch"
}

/** Where `needle` occurs in `hay` from `from` on (exactly, else ignoring trailing whitespace), or -1. */
const find = (hay: ReadonlyArray<string>, needle: ReadonlyArray<string>, from: number): number => {
  for (const same of [(a: string, b: string) => a === b, (a: string, b: string) => a.trimEnd() === b.trimEnd()]) {
    for (let at = from; at + needle.length <= hay.length; at++) {
      if (needle.every((l, k) => same(hay[at + k]!, l))) return at
    }
  }
  return -1
}

/** A file's new lines after its hunks, or what did not match. */
const applyHunks = (path: string, text: string, hunks: ReadonlyArray<Hunk>): string | { readonly error: string } => {
  const lines = text.split("\n")
  let from = 0
  for (const [n, hunk] of hunks.entries()) {
    if (hunk.context !== undefined) {
      const at = find(lines, [hunk.context], from)
      if (at >= 0) from = at + 1
    }
    const before = hunk.lines.filter((l) => !l.startsWith("+")).map((l) => l.slice(1))
    const after = hunk.lines.filter((l) => !l.startsWith("-")).map((l) => l.slice(1))
    const at = before.length === 0 ? lines.length - (lines.at(-1) === "" ? 1 : 0) : find(lines, before, from)
    if (at < 0) {
      return { error: `hunk ${n + 1} of ${path} does not match the file: its lines ${JSON.stringify(before.slice(0, 3).join("\n"))}… are not there (Read the file and copy its lines exactly)` }
    }
    lines.splice(at, before.length, ...after)
    from = at + after.length
  }
  return lines.join("\n")
}

export const ApplyPatch: BuiltinTool = {
  definition: {
    name: "ApplyPatch",
    description: "Apply a patch to files: *** Begin Patch, then *** Add File: PATH (lines starting with +), " +
      "*** Delete File: PATH, or *** Update File: PATH (optionally *** Move to: NEW) with hunks of ' ' context, " +
      "'-' removed and '+' added lines, each hunk optionally after an @@ line naming where it is; then *** End Patch.",
    parameters: {
      type: "object",
      properties: { patch: { type: "string", description: "The whole patch, from *** Begin Patch to *** End Patch" } },
      required: ["patch"]
    }
  },
  readOnly: false,
  risk: (args, ctx) => {
    const ops = parsePatch(str(args, "patch") ?? "")
    if (typeof ops === "string") return { risk: "read", why: "a patch byok cannot read (it fails on its own)" }
    const paths = ops.flatMap((o) => (o.kind === "update" && o.moveTo !== undefined ? [o.path, o.moveTo] : [o.path]))
    const full = paths.map((p) => resolve(ctx.cwd, p))
    return !full.every((p) => isInside(ctx.cwd, p))
      ? { risk: "high", why: "it writes outside the working directory" }
      : full.some((p) => isProtected(ctx.cwd, p))
      ? { risk: "high", why: "it writes .git/config, .git/hooks or .factory, whose code runs later as the user" }
      : { risk: "low", why: "it edits files in the working directory" }
  },
  subject: (args) => {
    const ops = parsePatch(str(args, "patch") ?? "")
    return typeof ops === "string" ? "" : ops.map((o) => o.path).join(", ")
  },
  run: (args, ctx) =>
    Effect.sync(() => {
      const ops = parsePatch(str(args, "patch") ?? "")
      if (typeof ops === "string") return failed(`The patch cannot be read: ${ops}.`, "bad patch")
      // Everything is worked out first; nothing is written unless all of it applies.
      const writes: Array<() => void> = []
      const diffs: Array<string> = []
      for (const op of ops) {
        const where = resolveWrite(ctx, op.path)
        if ("refused" in where) return failed(where.refused, "refused")
        const path = where.path
        if (op.kind === "add") {
          if (existsSync(path)) return failed(`${op.path} exists already: update it instead of adding it.`, "exists")
          const content = op.lines.join("\n") + "\n"
          writes.push(() => {
            mkdirSync(dirname(path), { recursive: true })
            writeFileSync(path, content)
          })
          diffs.push(`+++ ${shown(ctx.cwd, path)} (new, ${count(op.lines.length, "line")})`)
        } else if (op.kind === "delete") {
          if (!existsSync(path)) return failed(`${op.path} does not exist.`, "no such file")
          writes.push(() => unlinkSync(path))
          diffs.push(`--- ${shown(ctx.cwd, path)} (deleted)`)
        } else {
          let text: string
          try {
            text = readFileSync(path, "utf8")
          } catch {
            return failed(`${op.path} does not exist: add it with *** Add File.`, "no such file")
          }
          const updated = applyHunks(op.path, text, op.hunks)
          if (typeof updated !== "string") return failed(updated.error, "does not apply")
          const target = op.moveTo !== undefined ? resolveWrite(ctx, op.moveTo) : { path }
          if ("refused" in target) return failed(target.refused, "outside the working directory")
          writes.push(() => {
            writeFileSync(path, updated)
            if (target.path !== path) {
              mkdirSync(dirname(target.path), { recursive: true })
              renameSync(path, target.path)
            }
          })
          diffs.push(...op.hunks.map((h) => [`@@ ${shown(ctx.cwd, path)}${h.context !== undefined ? ` ${h.context}` : ""}`, ...h.lines.filter((l) => l.startsWith("+") || l.startsWith("-"))].join("\n")))
        }
      }
      for (const write of writes) write()
      return {
        output: `Applied the patch: ${ops.map((o) => `${o.kind === "add" ? "added" : o.kind === "delete" ? "deleted" : "updated"} ${o.path}`).join(", ")}.`,
        isError: false,
        summary: `${ops.length} file${ops.length === 1 ? "" : "s"}`,
        diff: `--- patch\n+++ patch\n${diffs.join("\n")}`
      }
    })
}
