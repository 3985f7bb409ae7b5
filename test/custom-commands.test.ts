// Custom slash commands (droid's .factory/commands): Markdown prompts with $ARGUMENTS and scripts whose output is
// the message; a project's only once the project is trusted; in the chat and in `byok exec /name`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { completeCommand, helpText, parseInput } from "../src/chat/commands.ts"
import { type CustomCommand, loadCustomCommands, slugOf, splitFrontmatter } from "../src/chat/custom.ts"
import { byokBinary } from "./lib/binary.ts"
import { okServer } from "./lib/faults.ts"
import { CANARY } from "./lib/provider.ts"
import { runBinary } from "./lib/run.ts"
import type { FakeServer } from "./lib/server.ts"
import { startPane } from "./lib/tmux.ts"

let bin: string
let server: FakeServer

beforeAll(() => {
  bin = byokBinary()
  server = okServer()
}, 60_000)
afterAll(() => server?.stop())

const userText = (body: unknown): string => {
  const messages = (body as { messages: Array<{ role: string; content: unknown }> }).messages
  const last = messages.filter((m) => m.role === "user").at(-1)!
  return typeof last.content === "string" ? last.content : JSON.stringify(last.content)
}

const setup = () => {
  const home = mkdtempSync(join(tmpdir(), "byok-cmd-home-"))
  mkdirSync(join(home, ".factory", "commands"), { recursive: true })
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
    customModels: [{ displayName: "M", model: "m", baseUrl: `${server.url}/v1`, apiKey: CANARY, provider: "generic-chat-completion-api", maxOutputTokens: 100 }]
  }))
  const commands = join(home, ".factory", "commands")
  writeFileSync(join(commands, "Code Review.md"), "---\ndescription: Review a branch\nargument-hint: <branch>\n---\nPlease review `$ARGUMENTS` for merge blockers.\n")
  writeFileSync(join(commands, "plain.md"), "# Summarise\nSummarise the repository.\n")
  writeFileSync(join(commands, "stamp"), `#!/bin/sh\n# description: the arguments and the working directory\necho "args=$1"\necho "dir=$(pwd)"\necho "key=${"$"}LEAK"\necho "token=${"$"}API_TOKEN"\necho "path=${"$"}PATH"\n`)
  chmodSync(join(commands, "stamp"), 0o755)
  writeFileSync(join(commands, "noexec"), "#!/bin/sh\necho hi\n")
  chmodSync(join(commands, "noexec"), 0o644)
  writeFileSync(join(commands, "fails"), "#!/bin/sh\necho 'it broke' >&2\nexit 3\n")
  chmodSync(join(commands, "fails"), 0o755)
  writeFileSync(join(commands, "notes.txt"), "not a command: no .md, no shebang\n")
  const project = mkdtempSync(join(tmpdir(), "byok-cmd-project-"))
  mkdirSync(join(project, ".git"))
  mkdirSync(join(project, ".factory", "commands"), { recursive: true })
  writeFileSync(join(project, ".factory", "commands", "plain.md"), "The project's own plain command.\n")
  writeFileSync(join(project, ".factory", "commands", "deploy.md"), "Deploy $ARGUMENTS.\n")
  return { home, project, data: mkdtempSync(join(tmpdir(), "byok-cmd-data-")) }
}

const run = async (args: ReadonlyArray<string>, s: { home: string; data: string }, cwd: string, stdin?: string) => {
  const r = await runBinary(bin, args, { HOME: s.home, BYOK_HOME: s.data, BYOK_MAX_RETRIES: "0", LEAK: CANARY, API_TOKEN: "tok-not-configured-anywhere-42" }, stdin, cwd)
  expect(r.stdout + r.stderr).not.toContain(CANARY)
  return r
}

describe("reading the commands", () => {
  test("names are droid's slugs; frontmatter gives the description and hint; only .md and #! files count", () => {
    expect(["hello.sh", "Code Review.md", "deploy.prod.py", ".hidden", "notes.MDX", "run"].map(slugOf)).toEqual(["hello", "code-review", "deploy.prod", "hidden", "notes", "run"])
    expect(slugOf("Code Review.md")).toBe("code-review")
    expect(slugOf("Ship It!.mdx")).toBe("ship-it")
    expect(splitFrontmatter("---\ndescription: \"Quoted\"\n---\nbody\n")).toEqual({ meta: { description: "Quoted" }, body: "body\n" })
    expect(splitFrontmatter("no frontmatter\n---\n").meta).toEqual({})
    const s = setup()
    const found = loadCustomCommands([{ dir: join(s.home, ".factory", "commands"), scope: "personal" }])
    expect(found.map((c) => [c.name, c.kind])).toEqual([
      ["code-review", "prompt"], ["fails", "script"], ["noexec", "script"], ["plain", "prompt"], ["stamp", "script"]
    ])
    expect(found.find((c) => c.name === "code-review")).toMatchObject({ description: "Review a branch", argumentHint: "<branch>" })
    expect(found.find((c) => c.name === "plain")!.description).toBe("Summarise")
    expect(found.find((c) => c.name === "stamp")!.description).toBe("the arguments and the working directory")
    const both = loadCustomCommands([
      { dir: join(s.home, ".factory", "commands"), scope: "personal" },
      { dir: join(s.project, ".factory", "commands"), scope: "project" }
    ])
    expect(both.find((c) => c.name === "plain")!.scope).toBe("project")
  })

  test("in the chat's parser: byok's own commands first, then the custom ones; Tab and /help know them", () => {
    const custom: ReadonlyArray<CustomCommand> = [
      { name: "review", file: "/x/review.md", kind: "prompt", description: "Review a branch", argumentHint: "<branch>", scope: "personal" },
      { name: "help", file: "/x/help.md", kind: "prompt", description: "shadowed", argumentHint: "", scope: "personal" }
    ]
    expect(parseInput("/review main  ", custom)).toMatchObject({ kind: "custom", command: { name: "review" }, arg: "main" })
    expect(parseInput("/help", custom)).toEqual({ kind: "command", name: "help", arg: "" })
    expect(parseInput("/reveiw x", custom)).toEqual({ kind: "unknown", name: "reveiw", suggestion: "review" })
    expect(parseInput("/review x")).toMatchObject({ kind: "unknown" })
    expect(completeCommand("/rev", custom)).toBe("/review ")
    expect(completeCommand("/rev")).toBeUndefined()
    expect(helpText(custom)).toMatch(/\/review <branch> +Review a branch/)
    // a long hint does not push its summary out of the column: it goes on the next line, aligned
    const long = helpText([{ ...custom[0]!, argumentHint: "<branch> [--a-very-long-option] [--another-one]" }])
    const rows = long.split("\n").filter((l) => (l.startsWith("  /") && !l.startsWith("  //")) || /^ {20,}\S/.test(l))
    const column = rows.map((l) => /^(\s*\/\S+(?: \S+)*?)( {2,})\S/.exec(l)).filter((m) => m !== null).map((m) => m![1]!.length + m![2]!.length)
    expect(new Set(column).size).toBe(1)
    expect(long).toContain("  /review <branch> [--a-very-long-option] [--another-one]\n" + " ".repeat(column[0]!) + "Review a branch")
  })
})

describe("byok exec /name", () => {
  test("a Markdown command: $ARGUMENTS replaced; without it, the body as written", async () => {
    const s = setup()
    server.requests.length = 0
    const r = await run(["exec", "/code-review", "feature/login", "now"], s, s.home)
    expect(r.code).toBe(0)
    expect(userText(server.requests.at(-1)!.body)).toBe("Please review `feature/login now` for merge blockers.")
    await run(["exec", "/plain"], s, s.home)
    expect(userText(server.requests.at(-1)!.body)).toBe("# Summarise\nSummarise the repository.")
  })

  test("a script: run in the working directory with the arguments as $1; its output, redacted, is the message", async () => {
    const s = setup()
    const r = await run(["exec", "/stamp", "a b"], s, s.project)
    expect(r.code).toBe(0)
    const sent = userText(server.requests.at(-1)!.body)
    expect(sent).toContain("args=a b")
    expect(sent).toContain(`dir=${s.project}`)
    expect(sent).not.toContain(CANARY)
    // the script's environment holds no key at all (not even a redacted one): neither a configured key's value nor
    // a variable whose name says it is a secret
    expect(sent).toMatch(/^key=$/m)
    expect(sent).toMatch(/^token=$/m)
    expect(sent).toMatch(/^path=\S+/m)
  })

  test("a script that fails, or is not executable: said, exit 2, nothing sent", async () => {
    const s = setup()
    server.requests.length = 0
    const failed = await run(["exec", "/fails"], s, s.home)
    expect(failed.code).toBe(2)
    expect(failed.stderr).toContain("exited with 3: it broke")
    const noexec = await run(["exec", "/noexec"], s, s.home)
    expect(noexec.code).toBe(2)
    expect(noexec.stderr).toContain("is not executable (chmod +x")
    expect(server.requests.filter((q) => q.method === "POST")).toHaveLength(0)
  })

  test("a slash that names no command is sent as written (a path is a prompt too)", async () => {
    const s = setup()
    await run(["exec", "/usr/bin/env", "explain"], s, s.home)
    expect(userText(server.requests.at(-1)!.body)).toBe("/usr/bin/env explain")
    await run(["exec", "/nosuch"], s, s.home)
    expect(userText(server.requests.at(-1)!.body)).toBe("/nosuch")
  })

  test("a project's commands: ignored and said until trusted; then they work and win over the user's", async () => {
    const s = setup()
    const before = await run(["exec", "/deploy", "prod"], s, s.project)
    expect(userText(server.requests.at(-1)!.body)).toBe("/deploy prod")
    expect(before.stderr).toContain(`ignored this project's .factory/commands (${s.project} is not trusted); to use them: byok trust ${s.project}`)
    expect((await run(["trust"], s, s.project)).stdout).toContain(".factory/commands")
    const after = await run(["exec", "/deploy", "prod"], s, s.project)
    expect(after.stderr).not.toContain("not trusted")
    expect(userText(server.requests.at(-1)!.body)).toBe("Deploy prod.")
    await run(["exec", "/plain"], s, s.project)
    expect(userText(server.requests.at(-1)!.body)).toBe("The project's own plain command.")
  })
})

test("in the chat (stdin not a terminal): /help lists them, and /name sends the command's message", async () => {
  const s = setup()
  const r = await run(["chat"], s, s.home, "/help\n/code-review main\n/exit\n")
  expect(r.stdout).toMatch(/\/code-review <branch> +Review a branch/)
  expect(r.stdout).toMatch(/\/stamp +the arguments and the working directory/)
  expect(userText(server.requests.at(-1)!.body)).toBe("Please review `main` for merge blockers.")
  const failed = await run(["chat"], s, s.home, "/fails\n/exit\n")
  expect(failed.stdout + failed.stderr).toContain("/fails: ")
  expect(failed.stdout + failed.stderr).toContain("nothing was sent")
})

describe("in a real terminal", () => {
  const chatIn = (s: { home: string; data: string }, dir: string) =>
    startPane(["sh", "-c", `cd '${dir}' && exec '${bin}'`], { HOME: s.home, BYOK_HOME: s.data, BYOK_MAX_RETRIES: "0", NO_COLOR: "1" })

  test("the chat asks once whether to trust a project; yes makes its commands work at once, Tab completes them", async () => {
    const s = setup()
    const pane = chatIn(s, s.project)
    try {
      await pane.waitFor(`${s.project} has its own .factory/commands.`)
      await pane.waitFor("Trust this project? [y/N]")
      pane.line("y")
      await pane.waitFor("/help for commands")
      pane.text("/depl")
      pane.keys("Tab")
      await pane.waitFor("/deploy ")
      pane.line("staging")
      await pane.waitFor(/ok\s*$/m)
      expect(userText(server.requests.at(-1)!.body)).toBe("Deploy staging.")
    } finally {
      pane.stop()
    }
    // Asked once: the next chat there does not ask again.
    const again = chatIn(s, s.project)
    try {
      const screen = await again.waitFor("/help for commands")
      expect(screen).not.toContain("Trust this project?")
    } finally {
      again.stop()
    }
  })

  test("no (or Enter) is kept too: not asked again, the project's commands stay ignored, and the notice says how", async () => {
    const s = setup()
    const pane = chatIn(s, s.project)
    try {
      await pane.waitFor("Trust this project? [y/N]")
      pane.keys("Enter")
      const screen = await pane.waitFor("/help for commands")
      expect(screen).toContain(`to use them: byok trust ${s.project}`)
      pane.line("/deploy x")
      await pane.waitFor("Unknown command /deploy")
    } finally {
      pane.stop()
    }
    const again = chatIn(s, s.project)
    try {
      expect(await again.waitFor("/help for commands")).not.toContain("Trust this project?")
    } finally {
      again.stop()
    }
  })

  test("Ctrl-C at the question ends byok (exit 130) and keeps no answer", async () => {
    const s = setup()
    const pane = chatIn(s, s.project)
    try {
      await pane.waitFor("Trust this project? [y/N]")
      pane.keys("C-c")
      await pane.waitFor("[exited 130]")
    } finally {
      pane.stop()
    }
    const again = chatIn(s, s.project)
    try {
      await again.waitFor("Trust this project? [y/N]")
    } finally {
      again.stop()
    }
  })
})
