// Fallback models (issue 28): a model that cannot answer for a reason another would not share (a rate limit, an
// overload or 5xx, no connection) hands the same conversation to the next one, in another wire format here; an
// error that needs the user (a key refused) does not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { answer } from "./lib/faults.ts"
import { fakeModel, homeWithModels } from "./lib/home.ts"
import { CANARY } from "./lib/provider.ts"
import { type FakeServer, startServer } from "./lib/server.ts"

let bin: string
let server: FakeServer
let root: string

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  root = mkdtempSync(join(tmpdir(), "byok-fallback-"))
}, 60_000)

afterAll(() => {
  server?.stop()
  rmSync(root, { recursive: true, force: true })
})

/** Chat Completions fails as `status` says; Anthropic's Messages answers. */
const failChatWith = (status: number) =>
  server.handle((req) =>
    req.path.endsWith("/chat/completions")
      ? new Response(JSON.stringify({ error: { message: "nope", type: "x" } }), { status, headers: { "content-type": "application/json" } })
      : new Response(answer("anthropic", ["from ", "Claude"]), { headers: { "content-type": "text/event-stream" } })
  )

const run = async (args: ReadonlyArray<string>, home: string) => {
  const proc = Bun.spawn([bin, ...args], {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: join(home, "data"), BYOK_MAX_RETRIES: "0" },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

const models = (chatOver: Record<string, unknown> = {}) =>
  homeWithModels([
    fakeModel("Chat", "generic-chat-completion-api", "gpt-4.1", `${server.url}/v1`, chatOver),
    fakeModel("Claude", "anthropic", "claude-sonnet-4-5", server.url)
  ])

describe("fallback models", () => {
  for (const status of [429, 503]) {
    test(`a ${status}: --fallback-model answers, one line on stderr names both, -o json names the one that answered`, async () => {
      failChatWith(status)
      const home = models()
      const r = await run(["exec", "-m", "Chat", "--fallback-model", "Claude", "-o", "json", "hi"], home)
      expect(r.code).toBe(0)
      const result = JSON.parse(r.stdout) as { result: string; model: string }
      expect(result.result).toBe("from Claude")
      expect(result.model).toBe("Claude")
      expect(r.stderr).toMatch(/Chat could not answer \(.*\); Claude answers instead \(a fallback model\)/)
      expect(r.stderr).not.toContain(CANARY)
      // Each request booked under its own model.
      const cost = await run(["cost", "--json"], home)
      expect(cost.stdout).toContain("Chat")
      expect(cost.stdout).toContain("Claude")
    }, 60_000)
  }

  const textCases: ReadonlyArray<readonly [string, number, ReadonlyArray<string>, Record<string, unknown>]> = [
    ["the entry's own fallbackModels (a 503), in text output", 503, [], { fallbackModels: ["Claude"] }],
    ["a server that cannot be reached (connection refused)", 200, ["--fallback-model", "Claude"], { baseUrl: "http://127.0.0.1:9/v1" }]
  ]
  for (const [name, status, flags, over] of textCases) {
    test(`${name}: the fallback answers`, async () => {
      failChatWith(status)
      const r = await run(["exec", "-m", "Chat", ...flags, "hi"], models(over))
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("from Claude\n")
      expect(r.stderr).toContain("Claude answers instead")
    }, 60_000)
  }

  test("a server that never begins its answer (--timeout): the fallback answers", async () => {
    server.handle((req) =>
      req.path.endsWith("/chat/completions")
        ? new Promise<Response>(() => {})
        : new Response(answer("anthropic", ["from ", "Claude"]), { headers: { "content-type": "text/event-stream" } })
    )
    const r = await run(["exec", "-m", "Chat", "--fallback-model", "Claude", "--timeout", "1", "hi"], models())
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("from Claude\n")
    expect(r.stderr).toMatch(/Chat could not answer \(.*\); Claude answers instead/)
  }, 60_000)

  test("a refused key needs the user: no fallback, the first failure's message and exit code stand", async () => {
    failChatWith(401)
    const r = await run(["exec", "-m", "Chat", "--fallback-model", "Claude", "hi"], models())
    expect(r.code).toBe(3)
    expect(r.stdout).toBe("")
    expect(r.stderr).not.toContain("answers instead")
  }, 60_000)

  test("all fail: the last failure stands; a fallback that is not a model is said and skipped", async () => {
    server.handle(() => new Response("{}", { status: 429, headers: { "content-type": "application/json" } }))
    const r = await run(["exec", "-m", "Chat", "--fallback-model", "Nope", "--fallback-model", "Claude", "hi"], models())
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('fallback model "Nope" is not a usable model; it is skipped')
    expect(r.stderr).toContain("Claude answers instead")
  }, 60_000)
})
