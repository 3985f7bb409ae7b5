// Projects and trust. A project's own droid files (.factory/settings.json, settings.local.json, its MCP servers
// and commands) could point a model at any server or start any program, so they take effect only in a
// directory the user has trusted with `byok trust`. The answers are kept in byok's data directory (trusted.json,
// private like the rest); with nowhere to keep them, nothing is trusted.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { PRIVATE_FILE, privateDirectory } from "../lib/sqlite.ts"
import { realPath } from "../lib/paths.ts"

/** The files of a project that byok reads, when they exist, in the order they are merged. */
export const PROJECT_FILES = [".factory/settings.json", ".factory/settings.local.json"] as const
/** A project's custom slash commands (chat/custom.ts). */
export const PROJECT_COMMANDS = ".factory/commands"
/** A project's MCP servers (mcp/config.ts). */
export const PROJECT_MCP = ".factory/mcp.json"

export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * The project a working directory is in: the nearest directory, from it up to the repository root, that has a
 * `.factory` folder, but never HOME itself (~/.factory is the user's own). Undefined when there is none.
 */
export const projectOf = (cwd: string, home: string | undefined): string | undefined => {
  const homeDir = home !== undefined ? realPath(home) : undefined
  for (let dir = realPath(cwd);; dir = dirname(dir)) {
    if (dir === homeDir) return undefined
    if (existsSync(join(dir, ".factory"))) return dir
    if (existsSync(join(dir, ".git")) || dirname(dir) === dir) return undefined
  }
}

/** The repository a directory is in (the nearest with `.git`), or undefined. */
export const repositoryOf = (cwd: string): string | undefined => {
  for (let dir = realPath(cwd);; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir
    if (dirname(dir) === dir) return undefined
  }
}

const storeOf = (dataDir: string) => join(dataDir, "trusted.json")

interface Store {
  readonly trusted: ReadonlyArray<string>
  /** Projects whose question the chat asked and the user said no to: not asked again. */
  readonly declined: ReadonlyArray<string>
}

const strings = (value: unknown): ReadonlyArray<string> =>
  Array.isArray(value) ? value.filter((d): d is string => typeof d === "string") : []

const readStore = (dataDir: string | undefined): Store => {
  if (dataDir === undefined) return { trusted: [], declined: [] }
  try {
    // A store that others could have written says nothing of what the user trusts (byok doctor makes it 600).
    if ((statSync(storeOf(dataDir)).mode & 0o022) !== 0) return { trusted: [], declined: [] }
    const value = JSON.parse(readFileSync(storeOf(dataDir), "utf8")) as { trusted?: unknown; declined?: unknown } | null
    return { trusted: strings(value?.trusted), declined: strings(value?.declined) }
  } catch {
    return { trusted: [], declined: [] }
  }
}

/** The trusted directories. */
export const trustedDirs = (dataDir: string | undefined): ReadonlyArray<string> => readStore(dataDir).trusted

export const isTrusted = (dataDir: string | undefined, dir: string): boolean => trustedDirs(dataDir).includes(realPath(dir))

/** Whether the user already answered this project's question, either way. */
export const wasAnswered = (dataDir: string | undefined, dir: string): boolean => {
  const store = readStore(dataDir)
  const key = realPath(dir)
  return store.trusted.includes(key) || store.declined.includes(key)
}

/**
 * Trusts a directory, or takes the trust back (and the chat does not ask about it again); the store is written
 * private, whole or not at all.
 */
export const setTrust = (dataDir: string, dir: string, trusted: boolean): void => {
  const key = realPath(dir)
  const store = readStore(dataDir)
  const without = (list: ReadonlyArray<string>) => list.filter((d) => d !== key)
  const next: Store = trusted
    ? { trusted: [...without(store.trusted), key], declined: without(store.declined) }
    : { trusted: without(store.trusted), declined: [...without(store.declined), key] }
  privateDirectory(dataDir)
  const temporary = `${storeOf(dataDir)}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: PRIVATE_FILE })
  renameSync(temporary, storeOf(dataDir))
}
