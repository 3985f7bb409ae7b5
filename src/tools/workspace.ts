// Paths a model names, checked against the working directory (lib/paths.ts follows links and `..` to where they
// really lead), so that neither gets a write (or, below high, a read) out of the workspace, nor into a secret or
// protected place.
import { lstatSync } from "node:fs"
import { isAbsolute, join, relative, resolve, sep } from "node:path"
import { isInside, realPath } from "../lib/paths.ts"
import { PROTECTED } from "../sandbox/policy.ts"
import type { ToolContext } from "./tool.ts"

export type Resolved = { readonly path: string } | { readonly refused: string }

/** A path for a tool: absolute, and inside the working directory (and out of the secret places) unless the level is high. */
export const resolvePath = (ctx: Pick<ToolContext, "cwd" | "level" | "sandbox">, given: string): Resolved => {
  const { cwd, level } = ctx
  const expanded = given === "~" || given.startsWith("~/") ? resolve(process.env["HOME"] ?? "/", given.slice(2)) : given
  const path = resolve(cwd, expanded)
  if (level === "high") return { path }
  if (!isInside(cwd, path)) {
    return { refused: `${given} is outside the working directory ${cwd} (a link or .. leads out of it); only the high autonomy level reaches there` }
  }
  if (ctx.sandbox?.isSecret(path) === true) {
    return { refused: `${given} is a place where keys and credentials are kept; below the high autonomy level no tool reads or writes it` }
  }
  return { path }
}

/** Whether a path is one of the workspace's protected places (.git/config, .git/hooks/, .factory/) or below one. */
export const isProtected = (cwd: string, path: string): boolean => {
  const at = realPath(path)
  return PROTECTED.some((p) => {
    const place = realPath(join(cwd, p))
    return at === place || at.startsWith(`${place}${sep}`)
  })
}

/**
 * A path to write for a tool: as resolvePath, and below high never a protected place (code planted there runs
 * later as the user) nor a file with more than one hard link (the other name may be outside the workspace).
 */
export const resolveWrite = (ctx: Pick<ToolContext, "cwd" | "level" | "sandbox">, given: string): Resolved => {
  const where = resolvePath(ctx, given)
  if ("refused" in where || ctx.level === "high") return where
  if (isProtected(ctx.cwd, where.path)) {
    return { refused: `${given} is in .git/config, .git/hooks or .factory, which stay as they are below the high autonomy level: code there would run later with the user's rights` }
  }
  try {
    const stat = lstatSync(where.path)
    if (stat.isFile() && stat.nlink > 1) {
      return { refused: `${given} has ${stat.nlink} hard links: another name for it may be outside the working directory, so it is not written below the high autonomy level` }
    }
  } catch {
    // a new file
  }
  return where
}

/** A path as the screen shows it: relative to the working directory when inside it. */
export const shown = (cwd: string, path: string): string => {
  const rel = relative(cwd, path)
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path
}
