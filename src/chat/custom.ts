// Custom slash commands, as droid reads them: the files of ~/.factory/commands and, in a trusted project, of its
// .factory/commands (which wins for the same name). A Markdown file (.md, .mdx) is a prompt: optional frontmatter
// (`description`, `argument-hint`), and `$ARGUMENTS` replaced by what follows the command. A file whose first line
// is a `#!` shebang is a script: it runs with the arguments as $1 in the working directory, and what it prints
// becomes the message.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

export interface CustomCommand {
  /** The name after the slash: the file name, lower case, spaces as `-`, without the extension. */
  readonly name: string
  readonly file: string
  readonly kind: "prompt" | "script"
  readonly description: string
  readonly argumentHint: string
  readonly scope: "personal" | "project"
}

/** A script's output beyond this is cut, and said to be cut. */
export const SCRIPT_OUTPUT_LIMIT = 64 * 1024
/** How long a script may run. */
export const SCRIPT_TIMEOUT_MS = 60_000

export const slugOf = (fileName: string): string =>
  fileName
    // without its extension, whatever it is (`Code Review.md` is /code-review, `hello.sh` is /hello), as droid names them
    .replace(/(?<=[^.])\.[A-Za-z0-9]+$/, "")
    .toLowerCase()
    .replace(/\s+/g, "-")
    .replace(/[^a-z0-9._~-]/g, "")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|-+$/g, "")

/** `---` frontmatter: its `key: value` lines, and the body after it. Anything else is all body. */
export const splitFrontmatter = (text: string): { readonly meta: Record<string, string>; readonly body: string } => {
  const match = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text)
  if (match === null) return { meta: {}, body: text }
  const meta: Record<string, string> = {}
  for (const line of match[1]!.split(/\r?\n/)) {
    const field = /^([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(line)
    if (field === null) continue
    meta[field[1]!.toLowerCase()] = field[2]!.trim().replace(/^(["'])(.*)\1$/, "$2")
  }
  return { meta, body: text.slice(match[0].length) }
}

const firstLine = (body: string): string =>
  (body.split("\n").map((l) => l.replace(/^#+\s*/, "").trim()).find((l) => l !== "") ?? "").slice(0, 70)

const readCommand = (dir: string, entry: string, scope: CustomCommand["scope"]): CustomCommand | undefined => {
  const file = join(dir, entry)
  let text: string
  try {
    if (!statSync(file).isFile()) return undefined
    text = readFileSync(file, "utf8")
  } catch {
    return undefined
  }
  const name = slugOf(entry)
  if (name === "") return undefined
  if (/\.(md|mdx)$/i.test(entry)) {
    const { meta, body } = splitFrontmatter(text)
    return {
      name,
      file,
      kind: "prompt",
      description: meta["description"] || firstLine(body),
      argumentHint: meta["argument-hint"] ?? "",
      scope
    }
  }
  if (!text.startsWith("#!")) return undefined
  const comment = /^#\s*description:\s*(.+)$/im.exec(text)?.[1]?.trim()
  return { name, file, kind: "script", description: comment ?? `runs ${entry}`, argumentHint: "", scope }
}

/** The commands of these directories, lowest first; a later directory's command replaces one of the same name. */
export const loadCustomCommands = (
  dirs: ReadonlyArray<{ readonly dir: string; readonly scope: CustomCommand["scope"] }>
): ReadonlyArray<CustomCommand> => {
  const found = new Map<string, CustomCommand>()
  for (const { dir, scope } of dirs) {
    let entries: Array<string>
    try {
      entries = readdirSync(dir).sort()
    } catch {
      continue
    }
    for (const entry of entries) {
      const command = readCommand(dir, entry, scope)
      if (command !== undefined) found.set(command.name, command)
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * A prompt command's message: its body with `$ARGUMENTS` replaced (a body without it is sent as written), or why
 * there is none.
 */
export const expandPrompt = (command: CustomCommand, args: string): ScriptResult => {
  let text: string
  try {
    text = readFileSync(command.file, "utf8")
  } catch (error) {
    return { ok: false, reason: `cannot read ${command.file}: ${(error as Error).message.split("\n")[0]}` }
  }
  const body = splitFrontmatter(text).body.replaceAll("$ARGUMENTS", args).trim()
  return body === "" ? { ok: false, reason: `${command.file} has no prompt after its frontmatter` } : { ok: true, text: body, cut: false }
}

/** Either kind of command, to the message it stands for. */
export const commandMessage = (command: CustomCommand, args: string, cwd: string, env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<ScriptResult> =>
  command.kind === "prompt" ? Promise.resolve(expandPrompt(command, args)) : runScript(command, args, cwd, env, signal)

export type ScriptResult =
  | { readonly ok: true; readonly text: string; readonly cut: boolean }
  | { readonly ok: false; readonly reason: string }

/**
 * Runs a script command: the arguments as $1, in `cwd`, with the environment commands get (no keys: its output
 * becomes the model's message); its stdout is the message.
 */
export const runScript = async (command: CustomCommand, args: string, cwd: string, env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<ScriptResult> => {
  let proc: ReturnType<typeof Bun.spawn>
  try {
    proc = Bun.spawn([command.file, ...(args === "" ? [] : [args])], {
      cwd,
      env: { ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
      ...(signal !== undefined ? { signal } : {})
    })
  } catch (error) {
    const code = (error as { code?: string }).code
    return {
      ok: false,
      reason: code === "EACCES"
        ? `${command.file} is not executable (chmod +x ${command.file})`
        : `${command.file} could not be started: ${(error as Error).message.split("\n")[0]}`
    }
  }
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    try {
      process.kill(-proc.pid, "SIGKILL")
    } catch {
      proc.kill("SIGKILL")
    }
  }, SCRIPT_TIMEOUT_MS)
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout as ReadableStream).text(),
    new Response(proc.stderr as ReadableStream).text(),
    proc.exited
  ])
  clearTimeout(timer)
  if (timedOut) return { ok: false, reason: `${command.file} ran longer than ${SCRIPT_TIMEOUT_MS / 1000} s and was stopped` }
  if (code !== 0) {
    const last = stderr.trim().split("\n").at(-1)?.slice(0, 300)
    return { ok: false, reason: `${command.file} exited with ${code}${last ? `: ${last}` : ""}` }
  }
  const cut = stdout.length > SCRIPT_OUTPUT_LIMIT
  const text = (cut ? stdout.slice(0, SCRIPT_OUTPUT_LIMIT) : stdout).trimEnd()
  return text.trim() === "" ? { ok: false, reason: `${command.file} printed nothing` } : { ok: true, text, cut }
}
