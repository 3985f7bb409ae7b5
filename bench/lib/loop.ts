// The agent loop against a loopback fake model, for benchmarks: the model asks for one tool call per step, and the
// time byok takes from the end of each answer to the arrival of the next request is measured at the fake server.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

const encoder = new TextEncoder()
const chunk = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`)

export interface Loop {
  readonly bin: string
  readonly steps: number
  /** The call of step n (from 0): a tool's name and arguments. */
  readonly call: (n: number) => { readonly name: string; readonly args: unknown }
  readonly auto: "off" | "low" | "medium" | "high"
  /** Top-level settings.json fields besides the model. */
  readonly settings?: Record<string, unknown>
  /** More fields of the model's entry (a contextWindow). */
  readonly entry?: Record<string, unknown>
  /** Files to put in the working directory. */
  readonly files?: Record<string, string>
  /** How long the model takes before it answers (byok's time is counted from the end of its answer either way). */
  readonly thinking?: number
}

/** One loop's gaps, in ms: for step i, from the end of answer i to the arrival of request i + 1. */
export const stepGaps = async (loop: Loop): Promise<Array<number>> => {
  const ended: Array<number> = []
  const arrived: Array<number> = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      // byok asks a loopback server what it is (GET /props, /api/version…): not a step
      if (req.method !== "POST") return new Response("", { status: 404 })
      arrived.push(performance.now())
      const body = await req.json() as { messages: Array<{ role: string }> }
      const results = body.messages.filter((m) => m.role === "tool").length
      if ((loop.thinking ?? 0) > 0) await Bun.sleep(loop.thinking!)
      const call = results < loop.steps ? loop.call(results) : undefined
      const parts = call !== undefined
        ? [
          chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: `call_${results}`, type: "function", function: { name: call.name, arguments: JSON.stringify(call.args) } }] } }] }),
          chunk({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
          chunk({ choices: [], usage: { prompt_tokens: 100 + results * 30, completion_tokens: 10 } })
        ]
        : [chunk({ choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] }), chunk({ choices: [], usage: { prompt_tokens: 2000, completion_tokens: 1 } })]
      return new Response(new ReadableStream({
        pull(controller) {
          for (const p of parts) controller.enqueue(p)
          controller.enqueue(encoder.encode("data: [DONE]\n\n"))
          controller.close()
          ended.push(performance.now())
        }
      }), { headers: { "content-type": "text/event-stream" } })
    }
  })
  const dir = mkdtempSync(join(tmpdir(), "byok-bench-loop-"))
  for (const [name, text] of Object.entries(loop.files ?? {})) writeFileSync(join(dir, name), text)
  const home = join(dir, "home")
  mkdirSync(join(home, ".factory"), { recursive: true })
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
    ...loop.settings,
    customModels: [{ displayName: "M", model: "m", baseUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: "k", provider: "generic-chat-completion-api", maxOutputTokens: 100, ...loop.entry }]
  }))
  // Not spawnSync: the fake server answers from this process's event loop while byok runs.
  const proc = Bun.spawn([loop.bin, "exec", "-m", "M", "--auto", loop.auto, "--max-turns", String(loop.steps + 5), "go"], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: join(dir, "data") },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  server.stop(true)
  if (code !== 0) throw new Error(`the loop failed: ${stderr}`)
  return ended.slice(0, -1).map((t, i) => arrived[i + 1]! - t)
}
