// Faults, end to end: the compiled binary (BYOK_BIN, else built from source) against a fault server on loopback,
// for each wire format. Every run checks the exit code and the message, and that no configured secret (either
// entry's key, a header value) is in any byte of stdout, stderr or the data directory's files.
import { Database } from "bun:sqlite"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { answer, delta, type Format, FORMATS, inBandError, jsonAnswer, never, pathOf, stalled, start } from "./lib/faults.ts"
import { CANARY } from "./lib/provider.ts"
import { type RunResult, runBinary } from "./lib/run.ts"
import { type FakeServer, sseResponse, startServer } from "./lib/server.ts"

/** Another entry's key, and a header value: the redactor must know every secret in the config, not only the one in use. */
const OTHER_KEY = "sk-other-entry-canary-9876543210fedcba"
const HEADER_SECRET = "hdr-team-canary-5555555555aaaaaaaa"
const SECRETS = [CANARY, OTHER_KEY, HEADER_SECRET]

const NAMES: Record<Format, string> = {
  "generic-chat-completion-api": "Chat",
  anthropic: "Messages",
  openai: "Responses"
}

let bin: string
let server: FakeServer
let elsewhere: FakeServer
let home: string

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  elsewhere = startServer()
  elsewhere.handle(() => new Response("nobody should ask here", { status: 500 }))
  home = mkdtempSync(join(tmpdir(), "byok-faults-"))
  mkdirSync(join(home, ".factory"))
  writeFileSync(
    join(home, ".factory", "settings.json"),
    JSON.stringify({
      customModels: [
        ...FORMATS.map((provider) => ({
          displayName: NAMES[provider],
          model: "m",
          baseUrl: `${server.url}/v1`,
          apiKey: CANARY,
          provider,
          maxOutputTokens: 100,
          extraHeaders: { "x-team-token": HEADER_SECRET }
        })),
        {
          displayName: "Other",
          model: "m",
          baseUrl: "https://api.example.invalid/v1",
          apiKey: OTHER_KEY,
          provider: "generic-chat-completion-api",
          maxOutputTokens: 100
        }
      ]
    })
  )
}, 120_000)

afterAll(() => {
  server?.stop()
  elsewhere?.stop()
})

const leaks = (text: string) => SECRETS.filter((s) => text.includes(s) || text.includes(s.slice(0, 12)))

/** Every byte of the data directory's files. */
const dataBytes = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString("latin1")).join("") : ""

const run = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<RunResult & { data: string }> => {
  const data = env["BYOK_HOME"] ?? mkdtempSync(join(tmpdir(), "byok-data-"))
  const r = await runBinary(bin, args, { HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0", ...env })
  expect(leaks(r.stdout)).toEqual([])
  expect(leaks(r.stderr)).toEqual([])
  expect(leaks(dataBytes(data))).toEqual([])
  return { ...r, data }
}

const ledgerRows = (dir: string) => {
  const db = new Database(join(dir, "ledger.db"), { readonly: true })
  try {
    return db.query("SELECT outcome, input_uncached, output_tokens FROM requests").all() as Array<
      { outcome: string; input_uncached: number; output_tokens: number }
    >
  } finally {
    db.close()
  }
}

/** Starts the binary and waits until it has printed `expected` on stdout; the process is left running. */
const startUntil = async (args: ReadonlyArray<string>, expected: string, data: string) => {
  const proc = Bun.spawn([bin, ...args], {
    env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: data, NO_COLOR: "1", BYOK_MAX_RETRIES: "0" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const reader = proc.stdout.getReader()
  let seen = ""
  while (!seen.includes(expected)) {
    const chunk = await reader.read()
    if (chunk.done) break
    seen += new TextDecoder().decode(chunk.value)
  }
  reader.releaseLock()
  return { proc, seen }
}

for (const format of FORMATS) {
  const m = NAMES[format]
  describe(`faults, ${format}`, () => {
    test("an in-band error whose text echoes the keys and a header: the message says what happened, no secret", async () => {
      server.handle(() => sseResponse(inBandError(format, `upstream refused key ${CANARY}, ${OTHER_KEY} and ${HEADER_SECRET}`)))
      const r = await run(["exec", "-m", m, "hi"])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain("upstream refused key [REDACTED]")
    })

    test("a 400 quoting the Authorization header: the bearer value is hidden", async () => {
      server.handle(() =>
        new Response(JSON.stringify({ error: { message: `invalid header Authorization: Bearer ${CANARY}x` } }), {
          status: 400,
          headers: { "content-type": "application/json" }
        })
      )
      const r = await run(["exec", "-m", m, "hi"])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain("Bearer [REDACTED]")
    })

    test("a 301 to another origin is not followed: nothing reaches it, the message names where it pointed", async () => {
      elsewhere.requests.length = 0
      server.handle((req) => new Response(null, { status: 301, headers: { location: `${elsewhere.url}${req.path}` } }))
      const r = await run(["exec", "-m", m, "hi"])
      expect(r.code).toBe(2)
      expect(elsewhere.requests).toHaveLength(0)
      expect(r.stderr).toContain(`(HTTP 301) to ${elsewhere.url}${pathOf(format)}`)
      expect(r.stderr).toContain(`to "${elsewhere.url}/v1"`)
    })

    test("a same-origin 301 is refused, not turned into a GET", async () => {
      server.handle(() => new Response(null, { status: 301, headers: { location: "/v2/elsewhere" } }))
      const r = await run(["exec", "-m", m, "hi"])
      expect(r.code).toBe(2)
      expect(r.stderr).not.toContain("GET")
      expect(r.stderr).toContain("301")
    })

    test("a stream that stalls after 3 pieces: exit 5, the pieces stay on stdout, the message says it stalled", async () => {
      const held = stalled(start(format, ["one ", "two ", "three"]))
      server.handle(() => held.response())
      const started = Date.now()
      const r = await run(["exec", "-m", m, "--timeout", "1", "hi"])
      held.release()
      expect(r.code).toBe(5)
      expect(Date.now() - started).toBeLessThan(8000)
      expect(r.stdout).toStartWith("one two three")
      expect(r.stderr).toContain("stalled after about 3 tokens: nothing for 1 s; the answer above is incomplete")
      expect(r.stderr).toContain("--timeout SECONDS")
      expect(ledgerRows(r.data).map((row) => row.outcome)).toEqual(["ConnectionError"])
    })

    test("a server that never answers: exit 5 after the limit, said as no response; not retried, the whole wait is the limit", async () => {
      const silent = never()
      server.handle(() => silent.response())
      server.requests.length = 0
      const started = Date.now()
      const once = await run(["exec", "-m", m, "--timeout", "1", "hi"], { BYOK_MAX_RETRIES: "2" })
      expect(Date.now() - started).toBeLessThan(2800)
      expect(once.code).toBe(5)
      expect(once.stderr).toContain(`No response from ${server.url.replace("http://", "")} in 1 s`)
      expect(once.stderr).not.toContain("trying again")
      expect(server.requests).toHaveLength(1)
      silent.release()
    })

    test("a server that fails and then hangs: the retries and their pauses fit in the one limit", async () => {
      const silent = never()
      let n = 0
      server.handle(() => (n++ === 0 ? new Response("overloaded", { status: 503 }) : silent.response()))
      const started = Date.now()
      const r = await run(["exec", "-m", m, "--timeout", "1", "hi"], { BYOK_MAX_RETRIES: "2" })
      expect(Date.now() - started).toBeLessThan(2800)
      expect(r.code).toBe(5)
      expect(r.stderr).toContain("in 1 s")
      silent.release()
    })

    test("a whole JSON answer to a streaming request is read", async () => {
      server.handle(() => new Response(jsonAnswer(format, "whole answer"), { headers: { "content-type": "application/json" } }))
      const r = await run(["exec", "-m", m, "hi"])
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("whole answer\n")
    })

    test("stdout on a full disk: exit 1 and a message, recorded as failed, not a quiet success", async () => {
      server.handle(() => sseResponse(answer(format, ["lost ", "answer"])))
      const data = mkdtempSync(join(tmpdir(), "byok-data-"))
      const proc = Bun.spawn([bin, "exec", "-m", m, "hi"], {
        env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: data, NO_COLOR: "1" },
        stdin: "ignore",
        stdout: Bun.file("/dev/full"),
        stderr: "pipe"
      })
      const stderr = await new Response(proc.stderr).text()
      expect(await proc.exited).toBe(1)
      expect(stderr).toContain("Cannot write to standard output: no space is left on the device (ENOSPC)")
      expect(ledgerRows(data).map((row) => row.outcome)).toEqual(["OutputError"])
    })

    for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
      test(`${signal} mid-stream: exit ${code}, the partial answer stays, the request is recorded as interrupted`, async () => {
        const held = stalled(start(format, ["partial "]))
        server.handle(() => held.response())
        const data = mkdtempSync(join(tmpdir(), "byok-data-"))
        const { proc, seen } = await startUntil(["exec", "-m", m, "hi"], "partial", data)
        expect(seen).toBe("partial ")
        proc.kill(signal)
        expect(await proc.exited).toBe(code)
        held.release()
        expect(ledgerRows(data).map((row) => row.outcome)).toEqual(["interrupted"])
      })
    }

    test("SIGKILL mid-stream leaves the request on record as unfinished, with the usage known so far", async () => {
      const held = stalled(start(format, ["partial "]))
      server.handle(() => held.response())
      const data = mkdtempSync(join(tmpdir(), "byok-data-"))
      const { proc } = await startUntil(["exec", "-m", m, "hi"], "partial", data)
      proc.kill("SIGKILL")
      await proc.exited
      held.release()
      const rows = ledgerRows(data)
      expect(rows.map((row) => row.outcome)).toEqual(["running"])
      // Anthropic says the input's size when the answer starts; the others only at the end.
      expect(rows[0]!.input_uncached).toBe(format === "anthropic" ? 7 : 0)
      const cost = await run(["cost"], { BYOK_HOME: data })
      expect(cost.stdout).toContain("1 unfinished")
    })
  })
}

describe("faults in config files", () => {
  const withConfig = (text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), "byok-cfg-")), "config.json")
    writeFileSync(file, text)
    return file
  }
  const entry = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      model_display_name: "M",
      model: "m",
      base_url: `${server.url}/v1`,
      api_key: CANARY,
      provider: "generic-chat-completion-api",
      max_tokens: 100,
      ...over
    })

  test("a minified file with a syntax error: the excerpt hides the key and stays short", async () => {
    const file = withConfig(`{"custom_models":[${entry()},${entry({ model_display_name: "N" })},]}`)
    const r = await run(["exec", "--config", file, "hi"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("invalid JSON: trailing comma")
    const excerpt = r.stderr.split("\n").find((l) => /^\s+1 \| /.test(l))!
    expect(excerpt.length).toBeLessThan(140)
  })

  test("an api_key string that is never closed: its line is shown masked", async () => {
    const r = await run(["exec", "--config", withConfig(`{"custom_models": [{"api_key": "${CANARY}\n`), "hi"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`"api_key": "****`)
  })

  test("100,000 nested arrays under a key byok does not read: the models still work", async () => {
    server.handle(() => sseResponse(answer("generic-chat-completion-api", ["deep ", "ok"])))
    const file = withConfig(`{"custom_models": [${entry()}], "x": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`)
    const r = await run(["exec", "--config", file, "hi"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("deep ok\n")
  })

  test("100,000 unclosed [: reported where the file ends, with a short excerpt", async () => {
    const text = `{"custom_models": ${"[".repeat(100_000)}`
    const r = await run(["exec", "--config", withConfig(text), "hi"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`:1:${text.length + 1}: invalid JSON: expected a value, found end of file`)
    expect(r.stderr.length).toBeLessThan(1000)
  })

  test("a config file that is a dangling link says where it points", async () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-link-home-"))
    mkdirSync(join(dir, ".factory"))
    symlinkSync(join(dir, "moved.json"), join(dir, ".factory", "config.json"))
    const r = await run(["exec", "hi"], { HOME: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`is a link to ${join(dir, "moved.json")}, which does not exist`)
  })
})

describe("faults in byok's own files", () => {
  test("byok cost and byok sessions with no data yet: they say so and create nothing", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    const cost = await run(["cost"], { BYOK_HOME: data })
    expect(cost.code).toBe(0)
    expect(cost.stdout).toContain("No requests recorded yet.")
    const sessions = await run(["sessions"], { BYOK_HOME: data })
    expect(sessions.code).toBe(0)
    expect(readdirSync(data)).toEqual([])
  })

  // A read-only data directory needs a read-only mount: as root, permissions are no obstacle. unshare makes one in
  // a private mount namespace, where that is permitted.
  const canUnshare = Bun.spawnSync(["unshare", "-rm", "true"]).exitCode === 0
  test.skipIf(!canUnshare)("a read-only data directory: cost and sessions read it; exec answers with one warning", async () => {
    server.handle(() => sseResponse(answer("generic-chat-completion-api", ["first"])))
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    expect((await run(["exec", "-m", "Chat", "hi"], { BYOK_HOME: data })).code).toBe(0)
    const before = readdirSync(data).sort()
    const readOnly = async (args: ReadonlyArray<string>) => {
      const script = `mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && exec "$@"`
      return runBinary("unshare", ["-rm", "sh", "-c", script, "sh", bin, ...args], { HOME: home, D: data, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" })
    }
    const cost = await readOnly(["cost"])
    expect(cost.stderr).toBe("")
    expect(cost.code).toBe(0)
    expect(cost.stdout).toContain("1 request:")
    const sessions = await readOnly(["sessions"])
    expect(sessions.code).toBe(0)
    expect(sessions.stdout).toContain("hi")
    server.handle(() => sseResponse(answer("generic-chat-completion-api", ["still ", "answers"])))
    const exec = await readOnly(["exec", "-m", "Chat", "again"])
    expect(exec.code).toBe(0)
    expect(exec.stdout).toBe("still answers\n")
    expect(exec.stderr.split("\n").filter((l) => l.startsWith("warning:"))).toHaveLength(1)
    expect(readdirSync(data).sort()).toEqual(before)
  })
})

test("a delta the binary splits is still redacted (the key across two network chunks)", async () => {
  const half = Math.floor(CANARY.length / 2)
  server.handle(() =>
    sseResponse(
      answer("generic-chat-completion-api", []).replace(
        /^/,
        delta("generic-chat-completion-api", `the key is ${CANARY.slice(0, half)}`) + delta("generic-chat-completion-api", `${CANARY.slice(half)} ok`)
      )
    )
  )
  const r = await run(["exec", "-m", "Chat", "hi"])
  expect(r.code).toBe(0)
  expect(r.stdout).toBe("the key is [REDACTED] ok\n")
})
