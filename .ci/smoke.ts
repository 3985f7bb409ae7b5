// CI smoke test of the built binary against a loopback fake server: one exec that must print the expected text,
// one 401 that must exit 3 without printing the key.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runBinary } from "../test/lib/run.ts"

const bin = process.argv[2] ?? "dist/byok"
const KEY = "sk-smoke-canary-0123456789abcdef"

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const body = await req.json() as { model: string }
    if (body.model === "wrong-key") return new Response(JSON.stringify({ error: { message: "bad key" } }), { status: 401 })
    const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`
    return new Response(
      chunk({ choices: [{ index: 0, delta: { content: "smoke " }, finish_reason: null }] }) +
        chunk({ choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }] }) +
        chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }) + "data: [DONE]\n\n",
      { headers: { "content-type": "text/event-stream" } }
    )
  }
})

const home = mkdtempSync(join(tmpdir(), "byok-smoke-"))
const config = join(home, "config.json")
const entry = (name: string, model: string) => ({
  model_display_name: name,
  model,
  base_url: `http://127.0.0.1:${server.port}/v1`,
  api_key: KEY,
  provider: "generic-chat-completion-api",
  max_tokens: 100
})
writeFileSync(config, JSON.stringify({ custom_models: [entry("Smoke", "smoke-model"), entry("Wrong", "wrong-key")] }))

const run = (...args: Array<string>) => runBinary(bin, args, { HOME: home, BYOK_CONFIG: config })

let failed = 0
const check = (name: string, ok: boolean, detail: unknown) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}`)
  if (!ok) {
    failed++
    console.log(detail)
  }
}

const good = await run("exec", "-m", "Smoke", "say ok")
check("exec prints the streamed answer", good.code === 0 && good.stdout === "smoke ok\n", good)
const bad = await run("exec", "-m", "Wrong", "hi")
check("401 exits 3 with a message", bad.code === 3 && bad.stderr.includes("rejected the API key"), bad)
check("the key is never printed", !(good.stdout + good.stderr + bad.stdout + bad.stderr).includes(KEY), { good, bad })

server.stop(true)
console.log(`${2 + 1 - failed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
