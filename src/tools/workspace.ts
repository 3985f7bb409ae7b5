// Paths a model names, checked against the working directory: resolved, with links and `..` followed to where
// they really lead, so that neither gets a write (or, below high, a read) out of the workspace.
import { lstatSync, readlinkSync, realpathSync } from "node:fs"
import { dirname, isAbsolute, relative, resolve, sep } from "node:path"
import type { Autonomy } from "./risk.ts"

/** Whether anything is at a path, a link whose target is missing included (existsSync follows links). */
const present = (path: string): boolean => {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

/**
 * Where a path really leads: its deepest present ancestor's real path, with the rest added. A link whose target
 * is missing leads where the target would be: a write through it lands there.
 */
export const realPath = (path: string, hops = 0): string => {
  let existing = path
  const rest: Array<string> = []
  while (!present(existing)) {
    const parent = dirname(existing)
    if (parent === existing) break
    rest.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)))
    existing = parent
  }
  let real = existing
  try {
    real = realpathSync(existing)
  } catch {
    try {
      // A dangling link (or a chain of them, up to the 40 the kernel follows).
      if (hops < 40) real = realPath(resolve(dirname(existing), readlinkSync(existing)), hops + 1)
    } catch {
      // not a link: keep it as it is
    }
  }
  return rest.length > 0 ? resolve(real, ...rest) : real
}

export const isInside = (root: string, path: string): boolean => {
  const rel = relative(realPath(root), realPath(path))
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))
}

export type Resolved = { readonly path: string } | { readonly refused: string }

/** A path for a tool: absolute, and inside the working directory unless the level is high. */
export const resolvePath = (cwd: string, given: string, level: Autonomy): Resolved => {
  const expanded = given.startsWith("~/") && process.env["HOME"] !== undefined ? resolve(process.env["HOME"], given.slice(2)) : given
  const path = resolve(cwd, expanded)
  if (level !== "high" && !isInside(cwd, path)) {
    return { refused: `${given} is outside the working directory ${cwd} (a link or .. leads out of it); only the high autonomy level reaches there` }
  }
  return { path }
}

/** A path as the screen shows it: relative to the working directory when inside it. */
export const shown = (cwd: string, path: string): string => {
  const rel = relative(cwd, path)
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path
}
