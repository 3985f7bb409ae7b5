// The sandbox from the compiled binary (its own executable as the Landlock helper): a scripted model at --auto low
// runs `npm test`, which low allows, whose script tries to write outside, read the config and a ${file:} secret,
// print the environment and reach a loopback listener. Nothing leaves the workspace, no request body carries the
// canary in any form, no connection is made; the model is told what the sandbox refused. The doctor and /sandbox
// say what is in force.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { homedir } from "node:os"
import { join } from "node:path"
import { detect } from "../src/sandbox/sandbox.ts"
import { byokBinary } from "./lib/binary.ts"
import { pathOf } from "./lib/faults.ts"
import { fakeModel } from "./lib/home.ts"
import { CANARY } from "./lib/provider.ts"
import { scripted } from "./lib/scripted.ts"
import { type FakeServer, startServer } from "./lib/server.ts"

const FILE_SECRET = "sk-file-secret-Q8w2Er5Ty7Ui9Op1"
const ENV_SECRET = "sk-env-secret-Z3x5Cv7Bn9Mm2Kk4"
const landlock = (await detect()).kind === "landlock"

let bin: string
let server: FakeServer
let listener: Server
let port = 0
let connections = 0
const base = mkdtempSync(join(homedir(), ".byok-sandbox-e2e-"))
const home = join(base, "home")
const outside = join(base, "outside")
const ws = join(base, "work")

beforeAll(async () => {
  bin = byokBinary()
  server = startServer()
  for (const d of [join(home, ".factory"), outside, ws]) mkdirSync(d, { recursive: true })
  writeFileSync(join(outside, "key.txt"), FILE_SECRET)
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
    customModels: [
      fakeModel("Chat", "generic-chat-completion-api", "gpt-4.1", `${server.url}/v1`),
      fakeModel("FromFile", "generic-chat-completion-api", "gpt-4.1", `${server.url}/v1`, { apiKey: `\${file:${join(outside, "key.txt")}}` }),
      fakeModel("FromEnv", "generic-chat-completion-api", "gpt-4.1", `${server.url}/v1`, { apiKey: "${MY_MODEL_KEY}" })
    ]
  }))
  listener = createServer((s) => {
    connections++
    s.end()
  })
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r))
  port = (listener.address() as { port: number }).port
}, 60_000)

afterAll(() => {
  server?.stop()
  listener?.close()
  rmSync(base, { recursive: true, force: true })
})

const run = async (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}, input?: string) => {
  const proc = Bun.spawn([bin, ...args], {
    cwd: ws,
    env: {
      PATH: process.env["PATH"] ?? "",
      NO_COLOR: "1",
      HOME: home,
      BYOK_HOME: join(base, "data"),
      BYOK_MAX_RETRIES: "0",
      MY_MODEL_KEY: ENV_SECRET,
      OPENAI_API_KEY: CANARY,
      ...extraEnv
    },
    stdin: input !== undefined ? new Blob([input]) : "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

const leaks = (text: string) =>
  [CANARY, FILE_SECRET, ENV_SECRET].flatMap((s) => [s, [...s].reverse().join(""), Buffer.from(s).toString("hex"), s.slice(4, 20)])
    .filter((form) => text.includes(form))

describe.skipIf(!landlock)("the sandbox from the compiled binary", () => {
  test("exec --auto low: npm test whose script reaches out is contained; no key in any request; the model is told", async () => {
    writeFileSync(join(ws, "package.json"), JSON.stringify({
      name: "demo",
      scripts: {
        test: `touch ${outside}/pwned; cat ${home}/.factory/settings.json; cat ${outside}/key.txt; env | rev; cat /proc/$PPID/environ; ` +
          `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 2)"; echo done`
      }
    }))
    const script = scripted("generic-chat-completion-api", [
      { name: "Execute", args: { command: "npm test" } },
      { name: "Execute", args: { command: "env | base64" } }
    ], "Done.")
    server.handle((req) => (req.path === pathOf("generic-chat-completion-api") ? script.handler(req) : new Response("no", { status: 404 })))
    const before = server.requests.length
    const r = await run(["exec", "-m", "Chat", "--auto", "low", "run the tests"])
    expect(r.code).toBe(0)
    expect(r.stderr).not.toContain("unsandboxed")
    expect(existsSync(join(outside, "pwned"))).toBe(false)
    expect(connections).toBe(0)
    const bodies = server.requests.slice(before).map((q) => JSON.stringify(q.body))
    expect(bodies.length).toBe(3)
    expect(bodies.flatMap(leaks)).toEqual([])
    expect(leaks(r.stdout + r.stderr)).toEqual([])
    const first = script.seen[1]![0]!.output
    expect(first).toContain("Permission denied")
    expect(first).toContain("done")
    expect(first).toContain("If that refusal came from byok's sandbox")
  }, 60_000)

  test("the doctor and /sandbox say what is in force, and sandbox: \"off\" is said once", async () => {
    const doctor = await run(["doctor"])
    expect(doctor.stdout + doctor.stderr).toMatch(/sandbox +Landlock ABI \d+ and seccomp/)
    expect(doctor.stdout).toContain("left out: MY_MODEL_KEY, OPENAI_API_KEY")
    const chat = await run(["-m", "Chat", "--auto", "medium"], {}, "/sandbox\n")
    expect(chat.stdout).toMatch(/sandbox: Landlock ABI \d+ and seccomp \(Linux\); setting sandbox: "auto" \(byok's default\)/)
    expect(chat.stdout).toContain("at level medium: writes in ")
    expect(chat.stdout).toContain("network: allowed")
    expect(leaks(chat.stdout + chat.stderr)).toEqual([])
    writeFileSync(join(home, ".factory", "settings.local.json"), JSON.stringify({ sandbox: "off" }))
    try {
      const script = scripted("generic-chat-completion-api", [{ name: "Execute", args: { command: "true" } }], "ok")
      server.handle((req) => script.handler(req))
      const r = await run(["exec", "-m", "Chat", "--auto", "low", "go"])
      expect(r.stderr.match(/the sandbox is off/g)?.length).toBe(1)
    } finally {
      rmSync(join(home, ".factory", "settings.local.json"))
    }
  }, 60_000)
})
