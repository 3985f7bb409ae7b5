// Glob and Grep: files by name pattern, lines by regular expression. ripgrep (`rg`) does the work when it is on
// PATH (it skips what .gitignore names); otherwise a walk of byok's own that skips .git, node_modules and the
// patterns of the top .gitignore. Results are capped, and the cap said.
import { Effect } from "effect"
import { readFileSync, statSync } from "node:fs"
import { isAbsolute, join, relative } from "node:path"
import { type BuiltinTool, failed, headAndTail, str } from "./tool.ts"
import { resolvePath } from "./workspace.ts"

const MAX_FILES = 500
const MAX_MATCHES = 500

const ripgrep = (() => {
  let found: string | null | undefined
  return () => (found === undefined ? (found = Bun.which("rg")) : found)
})()

/** What the top .gitignore leaves out, as globs (a small subset: names and simple patterns). */
const ignored = (root: string): ReadonlyArray<Bun.Glob> => {
  const always = [".git/**", "node_modules/**", "**/.git/**", "**/node_modules/**"]
  let lines: Array<string> = []
  try {
    lines = readFileSync(join(root, ".gitignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("!"))
  } catch {
    // none
  }
  const globs = lines.flatMap((l) => {
    const p = l.replace(/^\//, "").replace(/\/$/, "")
    return l.includes("/") && !l.endsWith("/") ? [p, `${p}/**`] : [p, `${p}/**`, `**/${p}`, `**/${p}/**`]
  })
  return [...always, ...globs].map((g) => new Bun.Glob(g))
}

/**
 * Files under a folder matching a glob, relative to it, without what is ignored. A pattern that climbs out
 * (`../*`, `/etc/*`) finds nothing, as with ripgrep.
 */
export const walk = (folder: string, pattern: string): Array<string> => {
  const skip = ignored(folder)
  const out: Array<string> = []
  for (const file of new Bun.Glob(pattern).scanSync({ cwd: folder, onlyFiles: true, dot: false })) {
    if (isAbsolute(file) || file.split(/[\\/]/).includes("..")) continue
    if (skip.some((g) => g.match(file))) continue
    out.push(file)
    if (out.length > MAX_FILES * 4) break
  }
  return out.sort()
}

const patternsOf = (args: Record<string, unknown>): Array<string> => {
  const p = args["patterns"] ?? args["pattern"]
  return (Array.isArray(p) ? p : [p]).filter((x): x is string => typeof x === "string" && x !== "")
}

export const Glob: BuiltinTool = {
  definition: {
    name: "Glob",
    description: "Find files by name pattern (like **/*.ts), in the working directory or a folder; ignored files are left out.",
    parameters: {
      type: "object",
      properties: {
        patterns: { type: "array", items: { type: "string" }, description: "Glob patterns, e.g. [\"src/**/*.ts\"]" },
        folder: { type: "string", description: "Where to look (default: the working directory)" }
      },
      required: ["patterns"]
    }
  },
  readOnly: true,
  risk: () => ({ risk: "read", why: "it lists files" }),
  subject: (args) => patternsOf(args).join(" "),
  run: (args, ctx) =>
    Effect.sync(() => {
      const patterns = patternsOf(args)
      if (patterns.length === 0) return failed("patterns is missing: give at least one glob pattern, like \"**/*.ts\".")
      const where = resolvePath(ctx, str(args, "folder") ?? ".")
      if ("refused" in where) return failed(where.refused, "outside the working directory")
      let files: Array<string>
      const rg = ripgrep()
      if (rg !== null) {
        const r = Bun.spawnSync([rg, "--files", "--color", "never", ...patterns.flatMap((p) => ["--glob", p])], { cwd: where.path, stdout: "pipe", stderr: "pipe" })
        files = r.stdout.toString().split("\n").filter((l) => l !== "").sort()
      } else {
        files = [...new Set(patterns.flatMap((p) => walk(where.path, p)))].sort()
      }
      const cut = files.length > MAX_FILES ? `\n[… ${files.length - MAX_FILES} more files; narrow the pattern]` : ""
      return {
        output: files.length === 0 ? "No files match." : files.slice(0, MAX_FILES).join("\n") + cut,
        isError: false,
        summary: `${files.length} file${files.length === 1 ? "" : "s"}`
      }
    })
}

export const Grep: BuiltinTool = {
  definition: {
    name: "Grep",
    description: "Search file contents for a regular expression; gives file:line:text for each match. Ignored files are left out.",
    parameters: {
      type: "object",
      properties: {
        pattern: { type: "string", description: "A regular expression" },
        path: { type: "string", description: "A file or folder to search (default: the working directory)" },
        glob: { type: "string", description: "Only files matching this glob, e.g. \"*.ts\"" },
        case_insensitive: { type: "boolean" }
      },
      required: ["pattern"]
    }
  },
  readOnly: true,
  risk: () => ({ risk: "read", why: "it searches files" }),
  subject: (args) => str(args, "pattern") ?? "",
  run: (args, ctx) =>
    Effect.sync(() => {
      const pattern = str(args, "pattern")
      if (pattern === undefined || pattern === "") return failed("pattern is missing: give a regular expression to search for.")
      const where = resolvePath(ctx, str(args, "path") ?? ".")
      if ("refused" in where) return failed(where.refused, "outside the working directory")
      const glob = str(args, "glob")
      const insensitive = args["case_insensitive"] === true
      let lines: Array<string>
      const rg = ripgrep()
      if (rg !== null) {
        const r = Bun.spawnSync([
          rg, "--line-number", "--no-heading", "--color", "never", "--max-columns", "400", ...(insensitive ? ["-i"] : []),
          ...(glob !== undefined ? ["--glob", glob] : []), "-e", pattern, "--", where.path
        ], { cwd: ctx.cwd, stdout: "pipe", stderr: "pipe" })
        if (r.exitCode === 2) return failed(`Grep failed: ${r.stderr.toString().trim().split("\n")[0]}`)
        lines = r.stdout.toString().split("\n").filter((l) => l !== "").map((l) => l.startsWith(`${ctx.cwd}/`) ? l.slice(ctx.cwd.length + 1) : l)
      } else {
        let regex: RegExp
        try {
          regex = new RegExp(pattern, insensitive ? "i" : "")
        } catch (error) {
          return failed(`pattern is not a valid regular expression: ${(error as Error).message}`)
        }
        let isFile = false
        try {
          isFile = statSync(where.path).isFile()
        } catch {
          return failed(`${str(args, "path")} does not exist.`)
        }
        const files = isFile ? [where.path] : walk(where.path, glob !== undefined ? `**/${glob}` : "**/*").map((f) => join(where.path, f))
        lines = []
        for (const file of files) {
          let text: string
          try {
            const bytes = readFileSync(file)
            if (bytes.subarray(0, 8192).includes(0)) continue
            text = bytes.toString("utf8")
          } catch {
            continue
          }
          text.split("\n").forEach((line, i) => {
            if (regex.test(line)) lines.push(`${relative(ctx.cwd, file)}:${i + 1}:${line.slice(0, 400)}`)
          })
          if (lines.length > MAX_MATCHES * 2) break
        }
      }
      const cut = lines.length > MAX_MATCHES ? `\n[… ${lines.length - MAX_MATCHES} more matches; narrow the pattern or the path]` : ""
      return {
        output: lines.length === 0 ? "No matches." : headAndTail(lines.slice(0, MAX_MATCHES).join("\n")) + cut,
        isError: false,
        summary: `${lines.length} match${lines.length === 1 ? "" : "es"}`
      }
    })
}
