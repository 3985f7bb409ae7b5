// What a model that acts is told about where it works: byok's short system prompt (its tools, the working
// directory, the system, the date, whether it is a git repository), the AGENTS.md files from the working directory
// up to the repository root and droid's ~/.factory/AGENTS.md, as droid reads them, then the user's --system text.
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"

/** The repository root above a directory (where .git is), or undefined. */
export const repositoryRoot = (cwd: string): string | undefined => {
  for (let dir = cwd;; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir
    if (dirname(dir) === dir) return undefined
  }
}

/** AGENTS.md files that apply to a directory, the most general first: droid's own, the repository's, then nearer ones. */
export const agentsFiles = (cwd: string, home: string | undefined): ReadonlyArray<string> => {
  const root = repositoryRoot(cwd)
  const dirs: Array<string> = []
  for (let dir = cwd;; dir = dirname(dir)) {
    dirs.unshift(dir)
    if (dir === root || dirname(dir) === dir || root === undefined) break
  }
  const own = home !== undefined ? [join(home, ".factory", "AGENTS.md")] : []
  return [...own, ...dirs.map((d) => join(d, "AGENTS.md"))].filter((f) => existsSync(f))
}

/** The most of an AGENTS.md byok includes. */
const MAX_AGENTS = 20_000

export const agentSystemPrompt = (options: {
  readonly cwd: string
  readonly tools: ReadonlyArray<string>
  readonly level: string
  readonly home: string | undefined
  readonly user: string | undefined
  readonly now: Date
}): string => {
  const root = repositoryRoot(options.cwd)
  const sections = [
    [
      "You work in the user's terminal through byok, on their files, with these tools: " + options.tools.join(", ") + ".",
      "Read before you change a file; make the smallest change that does the task; run the project's checks when there are some.",
      `Working directory: ${options.cwd}${root !== undefined ? ` (a git repository${root !== options.cwd ? ` rooted at ${root}` : ""})` : ""}.`,
      `System: ${process.platform} ${process.arch}. Date: ${options.now.toISOString().slice(0, 10)}.`,
      `Autonomy level: ${options.level}. A tool call above it is refused with the reason; then do it another way, or say what you need.`,
      "When the task is done, answer with a short summary of what you did."
    ].join("\n"),
    ...agentsFiles(options.cwd, options.home).map((file) => {
      const text = readFileSync(file, "utf8")
      return `Instructions from ${file}:\n${text.length > MAX_AGENTS ? `${text.slice(0, MAX_AGENTS)}\n[… cut]` : text}`
    }),
    ...(options.user !== undefined ? [options.user] : [])
  ]
  return sections.join("\n\n")
}
