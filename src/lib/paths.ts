// Where a path really leads: links (dangling ones too) and `..` followed, and whether it is inside a folder. The
// tools, the classifier and trust read it; it knows nothing of them.
import { lstatSync, readlinkSync, realpathSync } from "node:fs"
import { dirname, isAbsolute, relative, resolve, sep } from "node:path"

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
  // "..." or "..x" is a name inside; only ".." itself (or a path through it) leads out
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
}
