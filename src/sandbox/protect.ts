// What stays as it was in the working directory below high: .git/config, .git/hooks/ and .factory/. Code planted
// there (a hook, core.fsmonitor, a project's mcp.json) would run later with the user's rights, outside any sandbox.
// Landlock cannot carve them out of a writable tree, so they are read before a command and put back after it,
// and the model is told what was undone.
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { PROTECTED } from "./policy.ts"

/** The protected places of a working directory. */
export const protectedPlaces = (cwd: string): ReadonlyArray<string> => PROTECTED.map((p) => join(cwd, p))

type Node =
  | { readonly kind: "file"; readonly mode: number; readonly content: Buffer }
  | { readonly kind: "dir"; readonly mode: number }
  | { readonly kind: "link"; readonly target: string }

/** A protected place as it was: every entry below it by path, and the identity of the place itself. */
export interface Snapshot {
  readonly root: string
  readonly entries: ReadonlyMap<string, Node>
  readonly identity: string | undefined
}

/** Far more than a hooks folder or a .factory holds: beyond it, the rest is not kept. */
const MAX_ENTRIES = 2000
const MAX_BYTES = 16 * 1024 * 1024

const identityOf = (path: string): string | undefined => {
  try {
    const s = lstatSync(path)
    return `${s.dev}:${s.ino}:${s.isDirectory() ? "d" : s.isSymbolicLink() ? "l" : "f"}`
  } catch {
    return undefined
  }
}

const read = (path: string, into: Map<string, Node>, budget: { entries: number; bytes: number }) => {
  if (budget.entries-- <= 0) return
  let s
  try {
    s = lstatSync(path)
  } catch {
    return
  }
  if (s.isSymbolicLink()) into.set(path, { kind: "link", target: readlinkSync(path) })
  else if (s.isDirectory()) {
    into.set(path, { kind: "dir", mode: s.mode & 0o7777 })
    for (const child of readdirSync(path)) read(join(path, child), into, budget)
  } else if (s.isFile() && s.size <= budget.bytes) {
    budget.bytes -= s.size
    into.set(path, { kind: "file", mode: s.mode & 0o7777, content: readFileSync(path) })
  }
}

/** The protected places of a working directory, and what `.git` itself was. */
export interface Protected {
  readonly cwd: string
  readonly git: string | undefined
  readonly places: ReadonlyArray<Snapshot>
}

export const snapshot = (cwd: string, roots: ReadonlyArray<string>): Protected => ({
  cwd,
  git: identityOf(join(cwd, ".git")),
  places: roots.map((root) => {
    const entries = new Map<string, Node>()
    read(root, entries, { entries: MAX_ENTRIES, bytes: MAX_BYTES })
    return { root, entries, identity: identityOf(root) }
  })
})

const same = (a: Node, b: Node): boolean =>
  a.kind === b.kind &&
  (a.kind === "file" ? b.kind === "file" && a.mode === b.mode && a.content.equals(b.content) : a.kind === "dir" ? b.kind === "dir" && a.mode === b.mode : b.kind === "link" && a.target === b.target)

const put = (path: string, node: Node, current: Node | undefined) => {
  if (node.kind === "dir" && current?.kind === "dir") return chmodSync(path, node.mode)
  rmSync(path, { recursive: true, force: true })
  mkdirSync(dirname(path), { recursive: true })
  if (node.kind === "dir") mkdirSync(path, { mode: node.mode })
  else if (node.kind === "link") symlinkSync(node.target, path)
  else writeFileSync(path, node.content, { mode: node.mode })
  if (node.kind !== "link") chmodSync(path, node.mode)
}

/**
 * Puts the protected places back as the snapshot had them; returns what was undone, relative to `cwd` (empty when
 * nothing changed). A `.git` that became something else (a `gitdir:` file pointing elsewhere) is moved aside.
 */
export const restore = ({ cwd, git: gitBefore, places }: Protected): ReadonlyArray<string> => {
  const undone: Array<string> = []
  const say = (path: string, what: string) => undone.push(`${relative(cwd, path) || path} (${what})`)
  const git = join(cwd, ".git")
  if (gitBefore !== undefined && gitBefore.endsWith(":d")) {
    try {
      const s = lstatSync(git)
      if (!s.isDirectory()) {
        const aside = `${git}.replaced-${Date.now()}`
        renameSync(git, aside)
        say(git, `it had become a ${s.isSymbolicLink() ? "link" : "file"}; moved to ${relative(cwd, aside)}`)
      }
    } catch {
      // .git is gone: what can be put back is put back below
    }
  }
  for (const snap of places) {
    const now = new Map<string, Node>()
    read(snap.root, now, { entries: MAX_ENTRIES, bytes: MAX_BYTES })
    // A repository the command made (`git init`): its config is its own; only hooks that would run are taken out.
    if (snap.root.startsWith(`${git}/`) && gitBefore === undefined) {
      for (const [path, node] of now) {
        if (path.startsWith(`${git}/hooks/`) && node.kind !== "dir" && !path.endsWith(".sample")) {
          rmSync(path, { force: true })
          say(path, "added")
        }
      }
      continue
    }
    try {
      for (const path of [...now.keys()].reverse()) {
        if (!snap.entries.has(path)) {
          rmSync(path, { recursive: true, force: true })
          say(path, "added")
        }
      }
      for (const [path, node] of snap.entries) {
        const current = now.get(path)
        if (current === undefined || !same(node, current)) {
          put(path, node, current)
          say(path, current === undefined ? "removed" : "changed")
        }
      }
    } catch (error) {
      say(snap.root, `could not be put back: ${(error as Error).message}`)
    }
  }
  return undone
}
