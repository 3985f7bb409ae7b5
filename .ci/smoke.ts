// CI smoke test of a built binary (this machine's, or another architecture's through --via) against a loopback fake server: one exec per wire format (Chat Completions,
// Anthropic Messages, OpenAI Responses) that must print the expected text, one 401 that must exit 3, no key printed.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runBinary } from "../test/lib/run.ts"

// `--via "CMD ARGS"` runs the binary through another program: CI runs the arm64 build under qemu-user.
const viaAt = process.argv.indexOf("--via")
const via = viaAt >= 0 ? process.argv[viaAt + 1]!.split(" ") : []
const bin = process.argv.filter((_, i) => i >= 2 && i !== viaAt && i !== viaAt + 1)[0] ?? "dist/byok"
const KEY = "sk-smoke-canary-0123456789abcdef"

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    // byok's local-server probes: this fake is none of them.
    if (req.method !== "POST") return new Response("not found", { status: 404 })
    const body = await req.json() as { model: string }
    if (body.model === "wrong-key") return new Response(JSON.stringify({ error: { message: "bad key" } }), { status: 401 })
    const path = new URL(req.url).pathname
    const data = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`
    const named = (o: { type: string }) => `event: ${o.type}\n${data(o)}`
    const text = path === "/v1/messages"
      ? [
        { type: "message_start", message: { model: body.model, usage: { input_tokens: 3, output_tokens: 1 } } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "smoke " } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ok" } },
        { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } },
        { type: "message_stop" }
      ].map(named).join("")
      : path === "/v1/responses"
      ? [
        { type: "response.created", response: { model: body.model } },
        { type: "response.output_text.delta", delta: "smoke " },
        { type: "response.output_text.delta", delta: "ok" },
        { type: "response.completed", response: { usage: { input_tokens: 3, output_tokens: 2 } } }
      ].map(named).join("")
      : data({ choices: [{ index: 0, delta: { content: "smoke " }, finish_reason: null }] }) +
        data({ choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }] }) +
        data({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }) + "data: [DONE]\n\n"
    return new Response(text, { headers: { "content-type": "text/event-stream" } })
  }
})

const home = mkdtempSync(join(tmpdir(), "byok-smoke-"))
const config = join(home, "config.json")
const entry = (name: string, model: string, provider = "generic-chat-completion-api") => ({
  model_display_name: name,
  model,
  base_url: provider === "anthropic" ? `http://127.0.0.1:${server.port}` : `http://127.0.0.1:${server.port}/v1`,
  api_key: KEY,
  provider,
  max_tokens: 100
})
writeFileSync(
  config,
  JSON.stringify({
    custom_models: [
      entry("Smoke", "smoke-model"),
      entry("Smoke Anthropic", "claude-smoke", "anthropic"),
      entry("Smoke Responses", "gpt-smoke", "openai"),
      entry("Wrong", "wrong-key")
    ]
  })
)

const run = (...args: Array<string>) =>
  via.length > 0
    ? runBinary(via[0]!, [...via.slice(1), bin, ...args], { HOME: home, BYOK_CONFIG: config })
    : runBinary(bin, args, { HOME: home, BYOK_CONFIG: config })

let failed = 0
let checks = 0
const check = (name: string, ok: boolean, detail: unknown) => {
  checks++
  console.log(`${ok ? "ok  " : "FAIL"} ${name}`)
  if (!ok) {
    failed++
    console.log(detail)
  }
}

const outputs: Array<string> = []
for (const model of ["Smoke", "Smoke Anthropic", "Smoke Responses"]) {
  const r = await run("exec", "-m", model, "say ok")
  outputs.push(r.stdout, r.stderr)
  check(`exec prints the streamed answer (${model})`, r.code === 0 && r.stdout === "smoke ok\n", r)
}
const bad = await run("exec", "-m", "Wrong", "hi")
check("401 exits 3 with a message", bad.code === 3 && bad.stderr.includes("rejected the API key"), bad)
check("the key is never printed", ![...outputs, bad.stdout, bad.stderr].join("").includes(KEY), { outputs, bad })

server.stop(true)
console.log(`${checks - failed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
