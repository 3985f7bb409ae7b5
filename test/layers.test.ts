// The house's shape, checked: no circle of imports among src's modules (static, type-only and dynamic imports all
// count), and no import from a lower layer to a higher one. A module's layer is that of the longest prefix of its
// path in LAYERS; data flows one way (argv → config → model entry → conversation → provider → renderer + ledger +
// sessions), and the leaves that everything reads sit at the bottom.
import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

const SRC = join(import.meta.dir, "..", "src")

/** Lower first. A path's layer is its longest matching prefix. */
const LAYERS: ReadonlyArray<ReadonlyArray<string>> = [
  // leaves: no domain, or the words every room shares
  ["lib/", "version.ts", "providers/names.ts", "sandbox/levels.ts"],
  // the model of a config entry and of a price
  ["config/schema.ts", "config/errors.ts", "config/json.ts", "ledger/prices.ts"],
  // the wire formats and the servers behind them
  ["providers/"],
  // what is recorded, and what commands run in
  ["ledger/", "sandbox/"],
  // the config as loaded (files, trust, local servers found)
  ["config/"],
  // the tools, saved sessions and the chat's editing
  ["tools/", "chat/"],
  // failures in words; MCP servers as tools; what telemetry is told and sends
  ["explain/", "mcp/", "telemetry/"],
  // the turn engine and the agent loop
  ["conversation/"],
  ["doctor/"],
  ["cli/"],
  ["app.ts", "main.ts"]
]

export const layerOf = (path: string): number => {
  let best = -1
  let length = -1
  LAYERS.forEach((prefixes, rank) => {
    for (const p of prefixes) {
      if ((path === p || path.startsWith(p)) && p.length > length) {
        best = rank
        length = p.length
      }
    }
  })
  return best
}

/** Every relative import of a module: `import … from`, `export … from`, `import type`, and `import("…")`. */
export const importsOf = (file: string, text: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const patterns = [/^\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms, /\bimport\(\s*"(\.[^"]+)"\s*\)/g]
  for (const pattern of patterns) {
    for (const m of text.matchAll(pattern)) found.push(relative(SRC, resolve(dirname(join(SRC, file)), m[1]!)))
  }
  return found
}

/** The circles of a graph (strongly connected parts of more than one module, or a module importing itself). */
export const circles = (graph: ReadonlyMap<string, ReadonlyArray<string>>): ReadonlyArray<ReadonlyArray<string>> => {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const out: Array<Array<string>> = []
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const part: Array<string> = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      part.push(w)
    } while (w !== v)
    if (part.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(part.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return out
}

const sources = [...new Bun.Glob("**/*.ts").scanSync(SRC)].sort()
const graph = new Map(sources.map((f) => [f, importsOf(f, readFileSync(join(SRC, f), "utf8"))] as const))

describe("the house", () => {
  test("the checker finds what it is for: a circle, and an import from a lower layer up", () => {
    expect(circles(new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]))).toEqual([["a.ts", "b.ts", "c.ts"]])
    expect(importsOf("cli/x.ts", 'import type { A } from "./commands.ts"\nconst m = await import("../mcp/open.ts")')).toEqual(["cli/commands.ts", "mcp/open.ts"])
    expect(layerOf("config/schema.ts")).toBeLessThan(layerOf("providers/http.ts"))
    expect(layerOf("providers/http.ts")).toBeLessThan(layerOf("config/config.ts"))
  })

  test("every module of src has a layer", () => {
    expect(sources.filter((f) => layerOf(f) < 0)).toEqual([])
  })

  test("no circle of imports, type-only and dynamic ones included", () => {
    expect(circles(graph)).toEqual([])
  })

  test("no import from a lower layer to a higher one", () => {
    const upward = [...graph].flatMap(([from, targets]) =>
      targets.filter((to) => layerOf(to) > layerOf(from)).map((to) => `${from} (layer ${layerOf(from)}) imports ${to} (layer ${layerOf(to)})`)
    )
    expect(upward).toEqual([])
  })
})
