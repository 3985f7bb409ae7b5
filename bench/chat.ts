// Chat benchmarks (not tests), in a real pseudo-terminal made by `script`:
//  1. start to prompt ready: from spawning `byok` to the prompt on screen. Target ≤ 25 ms (issue 12). Baseline: a compiled
//     Bun hello world through the same harness, to show what the harness itself costs.
//  2. keystroke echo: a key sent at the prompt until it is drawn, idle and while an answer is streaming into the
//     terminal (a stream that never pauses); and Ctrl-C while streaming until the prompt is back.
// Run: npm run build && bun run bench/chat.ts
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dir, "..")
const bin = join(root, "dist", "byok")
const runs = Number(process.env["BENCH_RUNS"] ?? 15)
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// A server whose answers never pause: one delta per millisecond, until the client goes away.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) => {
    if (req.method !== "POST") return new Response("not found", { status: 404 })
    let timer: ReturnType<typeof setInterval> | undefined
    return new Response(
      new ReadableStream({
        start(controller) {
          const enc = new TextEncoder()
          let i = 0
          timer = setInterval(() => {
            try {
              controller.enqueue(enc.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `w${i++} ` } }] })}\n\n`))
            } catch {
              clearInterval(timer)
            }
          }, 1)
        },
        cancel() {
          clearInterval(timer)
        }
      }),
      { headers: { "content-type": "text/event-stream" } }
    )
  }
})

const home = mkdtempSync(join(tmpdir(), "byok-bench-chat-"))
mkdirSync(join(home, ".factory"))
writeFileSync(join(home, ".factory", "config.json"), JSON.stringify({
  custom_models: [{
    model_display_name: "Bench",
    model: "bench",
    base_url: `http://127.0.0.1:${server.port}/v1`,
    api_key: "bench",
    provider: "generic-chat-completion-api",
    max_tokens: 100000
  }]
}))

/** A program in a pty; `until` waits for text on its screen and gives the time it appeared. */
const pty = (command: string) => {
  const start = performance.now()
  const proc = Bun.spawn(["script", "-qfec", command, "/dev/null"], {
    env: { ...process.env, HOME: home, BYOK_HOME: join(home, "data"), NO_COLOR: "1", TERM: "xterm" },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "ignore"
  })
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let screen = ""
  const until = async (text: string, from = 0): Promise<number> => {
    while (!screen.includes(text, from)) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`ended before ${JSON.stringify(text)}: ${screen.slice(-300)}`)
      screen += decoder.decode(value, { stream: true })
    }
    return performance.now()
  }
  return {
    start,
    until,
    length: () => screen.length,
    send: (s: string) => {
      proc.stdin.write(s)
      proc.stdin.flush()
      return performance.now()
    },
    stop: () => proc.kill()
  }
}

const helloSrc = join(root, "bench", ".out", "hello.ts")
const hello = join(root, "bench", ".out", "hello")
if (!existsSync(hello)) {
  mkdirSync(join(root, "bench", ".out"), { recursive: true })
  writeFileSync(helloSrc, `console.log("hello")\n`)
  Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", helloSrc, "--outfile", hello])
}

const startup: Array<number> = []
const baseline: Array<number> = []
const idleEcho: Array<number> = []
const busyEcho: Array<number> = []
const stop: Array<number> = []
for (let i = 0; i < runs + 1; i++) {
  const h = pty(hello)
  const helloAt = await h.until("hello")
  h.stop()

  const p = pty(bin)
  const ready = await p.until("› ")
  const from = p.length()
  const sent = p.send("x")
  const echoed = await p.until("x", from)
  p.send("\x7fwrite a very long story\r")
  await p.until("w20 ")
  const from2 = p.length()
  const key = p.send("\x03")
  const back = await p.until("› ", from2)
  const from3 = p.length()
  const sent2 = p.send("y")
  const echoed2 = await p.until("y", from3)
  p.stop()
  if (i === 0) continue // warm-up
  baseline.push(helloAt - h.start)
  startup.push(ready - p.start)
  idleEcho.push(echoed - sent)
  stop.push(back - key)
  busyEcho.push(echoed2 - sent2)
}
server.stop(true)

const f = (n: number) => n.toFixed(1)
console.log(`runs: ${runs}, in a pty made by script(1)`)
console.log(`hello world through the pty (baseline): median ${f(median(baseline))} ms`)
console.log(`byok start to prompt ready:             median ${f(median(startup))} ms (target ≤ 25 ms)  ${median(startup) <= 25 ? "ok" : "MISSED"}`)
console.log(`keystroke echo at the prompt:           median ${f(median(idleEcho))} ms`)
console.log(`Ctrl-C while streaming, to the prompt:  median ${f(median(stop))} ms`)
console.log(`keystroke echo right after the stream:  median ${f(median(busyEcho))} ms`)
