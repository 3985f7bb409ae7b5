// The built-in tools on their own: their edge cases (a non-unique Edit, a binary Read, an Execute that runs out of
// time and leaves no process behind, links out of the working directory) and their results' sizes.
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Create, Edit } from "../src/tools/edit.ts"
import { Execute } from "../src/tools/execute.ts"
import { ApplyPatch } from "../src/tools/patch.ts"
import { DEFAULT_SETTINGS } from "../src/sandbox/policy.ts"
import { make } from "../src/sandbox/sandbox.ts"
import { LS } from "../src/tools/ls.ts"
import { Read } from "../src/tools/read.ts"
import type { Autonomy } from "../src/sandbox/levels.ts"
import { Glob, Grep } from "../src/tools/search.ts"
import type { BuiltinTool } from "../src/tools/tool.ts"

const workspace = () => mkdtempSync(join(tmpdir(), "byok-tools-ws-"))
const ctx = (cwd: string, level: Autonomy = "low", signal?: AbortSignal) => ({ cwd, level, rules: { allow: [], deny: [] }, signal })
const run = (tool: BuiltinTool, args: Record<string, unknown>, c: ReturnType<typeof ctx>) => Effect.runPromise(tool.run(args, c))

describe("Read", () => {
  test("numbered lines, a range, the rest said; a binary file and a directory refused", async () => {
    const dir = workspace()
    writeFileSync(join(dir, "a.txt"), Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n") + "\n")
    const part = await run(Read, { file_path: "a.txt", offset: 5, limit: 3 }, ctx(dir))
    expect(part.output).toBe("5\tline 5\n6\tline 6\n7\tline 7\n[lines 5–7 of 30; read on with offset 8]")
    expect(part.summary).toBe("3 lines of 30")
    writeFileSync(join(dir, "b.bin"), new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]))
    const binary = await run(Read, { file_path: "b.bin" }, ctx(dir))
    expect(binary).toMatchObject({ isError: true, summary: "binary" })
    expect((await run(Read, { file_path: "." }, ctx(dir))).output).toContain("is a directory")
    expect((await run(Read, { file_path: "nope" }, ctx(dir))).output).toContain("does not exist")
  })
  test("outside the working directory only at high", async () => {
    const dir = workspace()
    const other = workspace()
    writeFileSync(join(other, "x.txt"), "secret-ish\n")
    symlinkSync(other, join(dir, "out"))
    expect((await run(Read, { file_path: "out/x.txt" }, ctx(dir, "medium"))).isError).toBe(true)
    expect((await run(Read, { file_path: join(other, "x.txt") }, ctx(dir, "high"))).output).toContain("secret-ish")
  })
})

describe("Edit and Create", () => {
  test("a non-unique old_str is refused with where it occurs; replace_all replaces them all; a missing one says what is near", async () => {
    const dir = workspace()
    writeFileSync(join(dir, "f.ts"), "let a = 1\nlet b = 1\nlet c = 2\n")
    const twice = await run(Edit, { file_path: "f.ts", old_str: "= 1", new_str: "= 3" }, ctx(dir))
    expect(twice).toMatchObject({ isError: true, summary: "not unique" })
    expect(twice.output).toContain("occurs 2 times in f.ts (lines 1, 2")
    expect(readFileSync(join(dir, "f.ts"), "utf8")).toBe("let a = 1\nlet b = 1\nlet c = 2\n")
    const all = await run(Edit, { file_path: "f.ts", old_str: "= 1", new_str: "= 3", replace_all: true }, ctx(dir))
    expect(all.summary).toBe("2 replacements")
    expect(readFileSync(join(dir, "f.ts"), "utf8")).toBe("let a = 3\nlet b = 3\nlet c = 2\n")
    const missing = await run(Edit, { file_path: "f.ts", old_str: "let c = 9", new_str: "x" }, ctx(dir))
    expect(missing.output).toContain("The closest line is 3: \"let c = 2\"")
  })
  test("Create makes folders, refuses to overwrite; neither writes through a link out of the workspace", async () => {
    const dir = workspace()
    const one = await run(Create, { file_path: "deep/new.txt", content: "hi\n" }, ctx(dir))
    expect(one.summary).toBe("1 line")
    expect(one.output).toBe("Created deep/new.txt (1 line).")
    expect((await run(Create, { file_path: "deep/new.txt", content: "again" }, ctx(dir))).summary).toBe("exists")
    const other = workspace()
    symlinkSync(other, join(dir, "link"))
    const out = await run(Create, { file_path: "link/evil.txt", content: "x" }, ctx(dir, "medium"))
    expect(out.output).toContain("outside the working directory")
    expect(Create.risk({ file_path: "../x" }, ctx(dir)).risk).toBe("high")
  })
})

describe("Execute", () => {
  test("exit code and output; a long output kept as head and tail", async () => {
    const dir = workspace()
    const r = await run(Execute, { command: "echo out; echo err >&2; exit 3" }, ctx(dir))
    expect(r.output).toBe("out\nerr\n[exit code 3]")
    expect(r.isError).toBe(true)
    const long = await run(Execute, { command: "seq 1 20000" }, ctx(dir))
    expect(long.output).toContain("characters cut")
    expect(long.output.length).toBeLessThan(31_000)
  })
  test("a timeout stops the command and everything it started (its process group)", async () => {
    const dir = workspace()
    const marker = `byok-test-${process.pid}-${Date.now()}`
    const r = await run(Execute, { command: `sh -c 'sleep 30; echo ${marker}' & sleep 30`, timeout: 1 }, ctx(dir))
    expect(r.summary).toBe("timed out after 1 s")
    await Bun.sleep(800)
    const left = Bun.spawnSync(["sh", "-c", `ps -eo args | grep -c '[s]leep 30; echo ${marker}'`]).stdout.toString().trim()
    expect(left).toBe("0")
  })
  test("an abort (Ctrl-C) stops the command's whole group at once", async () => {
    const dir = workspace()
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(), 300)
    const r = await run(Execute, { command: "sleep 20 & sleep 20" }, ctx(dir, "low", controller.signal))
    expect(Date.now() - started).toBeLessThan(3000)
    expect(r.summary).toContain("stopped")
  })
  test("risk: the command's, raised when a word names a path outside the working directory", () => {
    const dir = workspace()
    expect(Execute.risk({ command: "ls -la" }, ctx(dir)).risk).toBe("read")
    expect(Execute.risk({ command: "cp a.txt b.txt" }, ctx(dir)).risk).toBe("low")
    expect(Execute.risk({ command: "cp a.txt /etc/passwd" }, ctx(dir)).risk).toBe("high")
    expect(Execute.risk({ command: "mv a.txt ../../x" }, ctx(dir)).risk).toBe("high")
  })
})

describe("LS, Glob and Grep", () => {
  test("listing, finding and searching, without what .gitignore leaves out", async () => {
    const dir = workspace()
    Bun.spawnSync(["git", "init", "-q"], { cwd: dir })
    writeFileSync(join(dir, ".gitignore"), "dist/\n")
    writeFileSync(join(dir, "a.ts"), "export const answer = 42\n")
    Bun.spawnSync(["mkdir", "-p", join(dir, "dist"), join(dir, "src")])
    writeFileSync(join(dir, "dist", "a.ts"), "export const answer = 42\n")
    writeFileSync(join(dir, "src", "b.ts"), "const other = 1\n")
    expect((await run(LS, {}, ctx(dir))).output).toBe(".git/\n.gitignore\na.ts\ndist/\nsrc/")
    expect((await run(Glob, { patterns: ["**/*.ts"] }, ctx(dir))).output).toBe("a.ts\nsrc/b.ts")
    const grep = await run(Grep, { pattern: "answer" }, ctx(dir))
    expect(grep.output).toBe("a.ts:1:export const answer = 42")
  })
})

describe("ApplyPatch", () => {
  test("add, update (by context, with a move), delete; nothing is written when a hunk does not apply", async () => {
    const { ApplyPatch } = await import("../src/tools/patch.ts")
    const dir = workspace()
    writeFileSync(join(dir, "app.ts"), "function a() {\n  return 1\n}\n\nfunction b() {\n  return 1\n}\n")
    writeFileSync(join(dir, "old.txt"), "bye\n")
    const patch = [
      "*** Begin Patch",
      "*** Add File: notes/new.md",
      "+# New",
      "+hello",
      "*** Update File: app.ts",
      "*** Move to: src/app.ts",
      "@@ function b() {",
      "-  return 1",
      "+  return 2",
      "*** Delete File: old.txt",
      "*** End Patch"
    ].join("\n")
    const r = await run(ApplyPatch, { patch }, ctx(dir))
    expect(r.isError).toBe(false)
    expect(readFileSync(join(dir, "notes/new.md"), "utf8")).toBe("# New\nhello\n")
    expect(readFileSync(join(dir, "src/app.ts"), "utf8")).toBe("function a() {\n  return 1\n}\n\nfunction b() {\n  return 2\n}\n")
    expect(existsSync(join(dir, "old.txt"))).toBe(false)
    writeFileSync(join(dir, "keep.ts"), "x\n")
    const bad = await run(ApplyPatch, {
      patch: "*** Begin Patch\n*** Add File: more.md\n+m\n*** Update File: keep.ts\n-not there\n+y\n*** End Patch"
    }, ctx(dir))
    expect(bad).toMatchObject({ isError: true, summary: "does not apply" })
    expect(existsSync(join(dir, "more.md"))).toBe(false)
    expect((await run(ApplyPatch, { patch: "no patch" }, ctx(dir))).output).toContain("*** Begin Patch")
  })
})

test("a dangling link in the workspace that points out of it: Create and Edit through it are refused", async () => {
  const dir = workspace()
  const other = workspace()
  symlinkSync(join(other, "planted.txt"), join(dir, "dangling"))
  const out = await run(Create, { file_path: "dangling", content: "x" }, ctx(dir, "medium"))
  expect(out.output).toContain("outside the working directory")
  expect(existsSync(join(other, "planted.txt"))).toBe(false)
  symlinkSync(join(other, "missing-dir", "deeper"), join(dir, "dangling-dir"))
  const deep = await run(Create, { file_path: "dangling-dir/x.txt", content: "x" }, ctx(dir, "medium"))
  expect(deep.output).toContain("outside the working directory")
})

test("Glob without ripgrep: a pattern that climbs out of the folder finds nothing there", async () => {
  const { walk } = await import("../src/tools/search.ts")
  const outer = workspace()
  writeFileSync(join(outer, "secret.txt"), "s")
  const dir = join(outer, "ws")
  Bun.spawnSync(["mkdir", dir])
  writeFileSync(join(dir, "a.txt"), "a")
  expect(walk(dir, "*.txt")).toEqual(["a.txt"])
  expect(walk(dir, "../*.txt")).toEqual([])
  expect(walk(dir, `${outer}/*.txt`)).toEqual([])
})

describe("the tools below high: devices, hard links, protected and secret places", () => {
  test("Read refuses a FIFO (without hanging), a device and a socket; a file is read up to the cap", async () => {
    const dir = workspace()
    Bun.spawnSync(["mkfifo", join(dir, "pipe")])
    const fifo = await run(Read, { file_path: "pipe" }, ctx(dir))
    expect(fifo).toMatchObject({ isError: true, summary: "not a file" })
    const zero = await run(Read, { file_path: "/dev/zero" }, ctx(dir, "high"))
    expect(zero).toMatchObject({ isError: true, summary: "not a file" })
    symlinkSync("/dev/urandom", join(dir, "rand"))
    expect((await run(Read, { file_path: "rand" }, ctx(dir, "high"))).summary).toBe("not a file")
  })
  test("Create, Edit and ApplyPatch refuse a file with a second hard link, and .git/config, .git/hooks, .factory, below high", async () => {
    const dir = workspace()
    const other = workspace()
    writeFileSync(join(other, "f"), "outside\n")
    linkSync(join(other, "f"), join(dir, "hl"))
    const edit = await run(Edit, { file_path: "hl", old_str: "outside", new_str: "owned" }, ctx(dir, "medium"))
    expect(edit.output).toContain("has 2 hard links")
    expect(readFileSync(join(other, "f"), "utf8")).toBe("outside\n")
    expect((await run(Edit, { file_path: "hl", old_str: "outside", new_str: "mine" }, ctx(dir, "high"))).isError).toBe(false)
    mkdirSync(join(dir, ".git/hooks"), { recursive: true })
    for (const path of [".git/hooks/pre-commit", ".factory/mcp.json", ".git/config"]) {
      const made = await run(Create, { file_path: path, content: "x" }, ctx(dir, "medium"))
      expect(made.output).toContain("stay as they are below the high autonomy level")
      expect(Create.risk({ file_path: path }, ctx(dir)).risk).toBe("high")
    }
    const patch = await run(ApplyPatch, { patch: "*** Begin Patch\n*** Add File: .factory/commands/x.sh\n+evil\n*** End Patch" }, ctx(dir, "medium"))
    expect(patch.isError).toBe(true)
    expect(existsSync(join(dir, ".factory"))).toBe(false)
  })
  test("a secret place inside the working directory is neither read nor written below high", async () => {
    const home = workspace()
    mkdirSync(join(home, ".ssh"))
    writeFileSync(join(home, ".ssh", "id_ed25519"), "PRIVATE KEY")
    const sandbox = make({ settings: DEFAULT_SETTINGS, source: "test", status: { kind: "none", abi: 0, network: false, why: "test" }, home, secretFiles: [], env: {}, dropped: [] })
    const c = { ...ctx(home, "medium"), sandbox }
    const read = await Effect.runPromise(Read.run({ file_path: ".ssh/id_ed25519" }, c))
    expect(read.output).toContain("keys and credentials are kept")
    expect(read.output).not.toContain("PRIVATE KEY")
  })
})
