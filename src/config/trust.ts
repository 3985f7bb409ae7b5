// Projects and trust. A project's own droid files (.factory/settings.json, settings.local.json, and later its MCP
// servers and commands) could point a model at any server or start any program, so they take effect only in a
// directory the user has trusted with `byok trust`. The answers are kept in byok's data directory (trusted.json,
// private like the rest); with nowhere to keep them, nothing is trusted.
import { existsSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { PRIVATE_FILE, privateDirectory } from "../lib/sqlite.ts"

/** The files of a project that byok reads, when they exist, in the order they are merged. */
export const PROJECT_FILES = [".factory/settings.json", ".factory/settings.local.json"] as const
/** A project's custom slash commands (chat/custom.ts). */
export const PROJECT_COMMANDS = ".factory/commands"

export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

const real = (path: string) => {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/**
 * The project a working directory is in: the nearest directory, from it up to the repository root, that has a
 * `.factory` folder, but never HOME itself (~/.factory is the user's own). Undefined when there is none.
 */
export const projectOf = (cwd: string, home: string | undefined): string | undefined => {
  const homeDir = home !== undefined ? real(home) : undefined
  for (let dir = real(cwd);; dir = dirname(dir)) {
    if (dir === homeDir) return undefined
    if (existsSync(join(dir, ".factory"))) return dir
    if (existsSync(join(dir, ".git")) || dirname(dir) === dir) return undefined
  }
}

const storeOf = (dataDir: string) => join(dataDir, "trusted.json")

/** The trusted directories. */
export const trustedDirs = (dataDir: string | undefined): ReadonlyArray<string> => {
  if (dataDir === undefined) return []
  try {
    const value: unknown = JSON.parse(readFileSync(storeOf(dataDir), "utf8"))
    const dirs = (value as { trusted?: unknown })?.trusted
    return Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === "string") : []
  } catch {
    return []
  }
}

export const isTrusted = (dataDir: string | undefined, dir: string): boolean => trustedDirs(dataDir).includes(real(dir))

/** Trusts a directory (or takes the trust back); the store is written private, whole or not at all. */
export const setTrust = (dataDir: string, dir: string, trusted: boolean): void => {
  const key = real(dir)
  const now = trustedDirs(dataDir).filter((d) => d !== key)
  privateDirectory(dataDir)
  const temporary = `${storeOf(dataDir)}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify({ trusted: trusted ? [...now, key] : now }, null, 2)}\n`, { mode: PRIVATE_FILE })
  renameSync(temporary, storeOf(dataDir))
}
