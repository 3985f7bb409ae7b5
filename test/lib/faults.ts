// A fault server for the compiled binary: each wire format's answers, in-band errors and JSON bodies, and the ways
// a server misbehaves (echoing the key, redirecting, stalling, never answering), on loopback. Tests pick a fault
// with `server.fault(...)`; every request is recorded.
import { sse, sseNamed } from "./http.ts"
import { type FakeServer, sseResponse, startServer } from "./server.ts"

export type Format = "generic-chat-completion-api" | "anthropic" | "openai"
export const FORMATS: ReadonlyArray<Format> = ["generic-chat-completion-api", "anthropic", "openai"]

/** The request path each format posts to, under the server's /v1. */
export const pathOf = (format: Format) =>
  format === "anthropic" ? "/v1/messages" : format === "openai" ? "/v1/responses" : "/v1/chat/completions"

/** The opening events of an answer (before any text), as each format streams them. */
const opening = (format: Format): string =>
  format === "anthropic"
    ? sseNamed(["message_start", { type: "message_start", message: { model: "m", usage: { input_tokens: 7, output_tokens: 1 } } }])
    : format === "openai"
    ? sseNamed(["response.created", { type: "response.created", response: { model: "m" } }])
    : ""

/** One piece of answer text. */
export const delta = (format: Format, text: string): string =>
  format === "anthropic"
    ? sseNamed(["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }])
    : format === "openai"
    ? sseNamed(["response.output_text.delta", { type: "response.output_text.delta", delta: text }])
    : sse({ model: "m", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })

/** The events that end an answer normally, with usage. */
const closing = (format: Format): string =>
  format === "anthropic"
    ? sseNamed(
      ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 3 } }],
      ["message_stop", { type: "message_stop" }]
    )
    : format === "openai"
    ? sseNamed(["response.completed", {
      type: "response.completed",
      response: { status: "completed", usage: { input_tokens: 7, output_tokens: 3 } }
    }])
    : sse(
      { model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      { model: "m", choices: [], usage: { prompt_tokens: 7, completion_tokens: 3 } },
      "[DONE]"
    )

/** The start of an answer: its opening and these pieces of text. */
export const start = (format: Format, words: ReadonlyArray<string>) =>
  opening(format) + words.map((w) => delta(format, w)).join("")

/** A whole streamed answer. */
export const answer = (format: Format, words: ReadonlyArray<string>) => start(format, words) + closing(format)

/** An error inside a 200 stream, in the format's own shape. */
export const inBandError = (format: Format, message: string) =>
  format === "anthropic"
    ? opening(format) + sseNamed(["error", { type: "error", error: { type: "api_error", message } }])
    : format === "openai"
    ? opening(format) + sseNamed(["error", { type: "error", code: "server_error", message }])
    : sse({ error: { message, type: "server_error" } })

/** The whole answer as one JSON body: what a server that ignores `stream: true` sends. */
export const jsonAnswer = (format: Format, text: string) =>
  JSON.stringify(
    format === "anthropic"
      ? { type: "message", model: "m", content: [{ type: "text", text }], stop_reason: "end_turn", usage: { input_tokens: 7, output_tokens: 3 } }
      : format === "openai"
      ? {
        object: "response",
        status: "completed",
        output: [{ type: "message", content: [{ type: "output_text", text }] }],
        usage: { input_tokens: 7, output_tokens: 3 }
      }
      : { object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }], usage: { prompt_tokens: 7, completion_tokens: 3 } }
  )

/** A response that sends `first`, then nothing more, holding the connection open until the test ends it. */
export const stalled = (first: string) => {
  const timers: Array<() => void> = []
  return {
    response: () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(first))
            timers.push(() => {
              try {
                controller.close()
              } catch {
                // the client went away first
              }
            })
          }
        }),
        { headers: { "content-type": "text/event-stream" } }
      ),
    release: () => timers.splice(0).forEach((t) => t())
  }
}

/** A response that never comes: the promise settles when the test releases it (or never). */
export const never = () => {
  const waiting: Array<(r: Response) => void> = []
  return {
    response: () => new Promise<Response>((resolve) => waiting.push(resolve)),
    release: () => waiting.splice(0).forEach((r) => r(new Response("late", { status: 500 })))
  }
}

/** A fake Chat Completions server that answers every request "ok". */
export const okServer = (): FakeServer => {
  const server = startServer()
  server.handle(() => sseResponse(answer("generic-chat-completion-api", ["ok"])))
  return server
}
