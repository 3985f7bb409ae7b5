// Images: -i in exec and /image in the chat, lowered as each API takes them, refused before sending where the
// model takes none or the API's limits are passed, counted in the prompt estimate, and kept by hash with sessions.
import { Database } from "bun:sqlite"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { dimensionsOf, imageFromBytes, imageTokens, mediaTypeOf } from "../src/providers/images.ts"
import { byokBinary } from "./lib/binary.ts"
import { fakeModel, homeWithModels, oneModelPerFormat } from "./lib/home.ts"
import { CANARY, fixture } from "./lib/provider.ts"
import { runBinary } from "./lib/run.ts"
import { type FakeServer, sseResponse, startServer } from "./lib/server.ts"

/** The start of a PNG (signature and IHDR) of the given size, padded with `extra` bytes: enough for byok. */
const png = (width: number, height: number, extra = 16) => {
  const bytes = new Uint8Array(33 + extra)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  for (let i = 33; i < bytes.length; i++) bytes[i] = (i * 7919) % 251
  return bytes
}

describe("reading an image", () => {
  test("PNG, JPEG, GIF and WebP by their first bytes, with their size; anything else is refused", () => {
    expect(mediaTypeOf(png(10, 20))).toBe("image/png")
    expect(dimensionsOf(png(640, 480), "image/png")).toEqual({ width: 640, height: 480 })
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x20, 0x00, 0x10, 0x00, 0, 0])
    expect(mediaTypeOf(gif)).toBe("image/gif")
    expect(dimensionsOf(gif, "image/gif")).toEqual({ width: 32, height: 16 })
    // A JPEG: SOI, an APP0 segment, then SOF0 with height 300 and width 400.
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0x01, 0x2c, 0x01, 0x90, 3, 0, 0, 0, 0])
    expect(mediaTypeOf(jpeg)).toBe("image/jpeg")
    expect(dimensionsOf(jpeg, "image/jpeg")).toEqual({ width: 400, height: 300 })
    const webp = new Uint8Array(30)
    webp.set([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50])
    expect(mediaTypeOf(webp)).toBe("image/webp")
    expect(imageFromBytes(new TextEncoder().encode("%PDF-1.7"))).toBe("not a PNG, JPEG, GIF or WebP image")
  })
  test("tokens by each API's formula", () => {
    const image = { type: "image" as const, mediaType: "image/png" as const, data: "", width: 1000, height: 1000 }
    expect(imageTokens(image, "anthropic")).toBe(Math.ceil((1000 * 1000) / 750))
    // OpenAI: fit in 2048, short side to 768 → 768×768 → 2×2 tiles.
    expect(imageTokens(image, "openai")).toBe(85 + 170 * 4)
  })
})

let bin: string
let server: FakeServer
let home: string
let dir: string

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  dir = mkdtempSync(join(tmpdir(), "byok-img-"))
  home = homeWithModels([
    ...oneModelPerFormat(server.url),
    fakeModel("Text only", "generic-chat-completion-api", "coder", `${server.url}/v1`, { noImageSupport: true }),
    fakeModel("Old field", "generic-chat-completion-api", "coder", `${server.url}/v1`, { supportsImages: false })
  ])
  writeFileSync(join(dir, "shot.png"), png(800, 600))
  writeFileSync(join(dir, "notes.txt"), "not an image")
  server.handle((req) =>
    sseResponse(fixture(req.path === "/v1/messages" ? "anthropic" : req.path === "/v1/responses" ? "openai-responses" : "chat-completions", req.path === "/v1/chat/completions" ? "openai-cached" : "plain-text"))
  )
}, 60_000)

afterAll(() => server?.stop())

const run = async (args: ReadonlyArray<string>, data = mkdtempSync(join(tmpdir(), "byok-img-data-")), stdin?: string) => {
  const r = await runBinary(bin, args, { HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" }, stdin)
  expect(r.stdout + r.stderr).not.toContain(CANARY)
  return r
}

describe("byok exec -i", () => {
  test("each format gets the image in its own shape, before the text", async () => {
    const data = Buffer.from(png(800, 600)).toString("base64")
    await run(["exec", "-m", "Claude", "-i", join(dir, "shot.png"), "What is this?"])
    const claude = server.requests.at(-1)!.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }
    expect(claude.messages[0]!.content[0]).toEqual({ type: "image", source: { type: "base64", media_type: "image/png", data } })
    expect(claude.messages[0]!.content[1]).toMatchObject({ type: "text", text: "What is this?" })
    await run(["exec", "-m", "GPT", "-i", join(dir, "shot.png"), "What is this?"])
    const gpt = server.requests.at(-1)!.body as { input: Array<{ content: Array<Record<string, unknown>> }> }
    expect(gpt.input[0]!.content).toEqual([
      { type: "input_image", image_url: `data:image/png;base64,${data}` },
      { type: "input_text", text: "What is this?" }
    ])
    await run(["exec", "-m", "Chat", "--image", join(dir, "shot.png"), "-i", join(dir, "shot.png"), "What is this?"])
    const chat = server.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> }
    expect(chat.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } },
        { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } },
        { type: "text", text: "What is this?" }
      ]
    })
  })

  test("noImageSupport (and the older supportsImages: false) refuses before anything is sent, naming the field", async () => {
    const before = server.requests.length
    for (const [model, field] of [["Text only", "noImageSupport: true"], ["Old field", "supportsImages: false"]] as const) {
      const r = await run(["exec", "-m", model, "-i", join(dir, "shot.png"), "hi"])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`"${model}" takes no images (${field} in`)
    }
    expect(server.requests.length).toBe(before)
  })

  test("the API's limits are checked before sending, with the limit in the message; a file that is no image is refused", async () => {
    writeFileSync(join(dir, "big.png"), png(4000, 4000, 4 * 1024 * 1024))
    const before = server.requests.length
    const big = await run(["exec", "-m", "Claude", "-i", join(dir, "big.png"), "hi"])
    expect(big.code).toBe(2)
    expect(big.stderr).toContain("Anthropic takes at most 5.0 MB each")
    const text = await run(["exec", "-m", "Claude", "-i", join(dir, "notes.txt"), "hi"])
    expect(text.code).toBe(2)
    expect(text.stderr).toContain("not a PNG, JPEG, GIF or WebP image")
    const missing = await run(["exec", "-m", "Claude", "-i", join(dir, "nope.png"), "hi"])
    expect(missing.stderr).toContain("no such file")
    expect(server.requests.length).toBe(before)
    // A larger one is fine for OpenAI.
    expect((await run(["exec", "-m", "GPT", "-i", join(dir, "big.png"), "hi"])).code).toBe(0)
  })

  test("sessions keep an image once, by hash, in a private file; resuming sends it again", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-img-data-"))
    await run(["exec", "-m", "Claude", "-i", join(dir, "shot.png"), "What is this?"], data)
    const files = readdirSync(join(data, "images"))
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.png$/)
    expect(statSync(join(data, "images", files[0]!)).mode & 0o777).toBe(0o600)
    const parts = new Database(join(data, "sessions.db"), { readonly: true }).query("SELECT parts FROM messages WHERE role = 'user'").get() as { parts: string }
    expect(parts.parts).toContain(files[0]!.slice(0, 64))
    expect(parts.parts.length).toBeLessThan(400)
    await run(["exec", "-c", "And now?"], data)
    const resumed = server.requests.at(-1)!.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }
    expect(resumed.messages[0]!.content[0]).toMatchObject({ type: "image", source: { media_type: "image/png" } })
    expect(existsSync(join(data, "images"))).toBe(true)
  })

  test("/image in the chat attaches to the next message; refused for a model that takes none", async () => {
    const r = await run(["-m", "Claude"], undefined, `/image ${join(dir, "shot.png")}\nwhat is it?\n`)
    expect(r.stdout).toContain("(800×600): it goes with your next message")
    const body = server.requests.at(-1)!.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }
    expect(body.messages.at(-1)!.content[0]).toMatchObject({ type: "image" })
    const refused = await run(["-m", "Text only"], undefined, `/image ${join(dir, "shot.png")}\n`)
    expect(refused.stdout).toContain(`Not attached: "Text only" takes no images`)
  })
})
