// Fakes of the local model servers, written from their API documentation (no Ollama binary can be had here; the
// others are faked too so each case is cheap and exact). Each answers the endpoints byok asks (recognition,
// context, models) and streams Chat Completions, with the error bodies each server really sends:
// - Ollama: /api/version, /api/tags, /api/ps (`context_length` of loaded models), /api/show (`parameters` with
//   num_ctx), /v1/models; a model not pulled is a 404 `model "x" not found, try pulling it first`; a prompt longer
//   than the context is not refused but cut from the start, and `usage.prompt_tokens` says what was read.
// - llama.cpp: /props (`default_generation_settings.n_ctx`), /v1/models; a prompt over n_ctx is a 400
//   `exceed_context_size_error` with `n_prompt_tokens` and `n_ctx`; /v1/responses refuses untyped input items
//   ("Cannot determine type of 'item'"), as its Responses-to-chat converter does.
// - vLLM: /version, /v1/models (`max_model_len`); an over-long prompt is a 400 "This model's maximum context
//   length is M tokens. However, you requested N tokens (P in the messages, C in the completion)".
// - LM Studio: /api/v0/models (`state`, `max_context_length`, `loaded_context_length`); an over-long prompt is an
//   error naming "context length of only M tokens".
import type { Server } from "bun"
import { sse, sseNamed } from "./http.ts"

export type Kind = "ollama" | "llama.cpp" | "vllm" | "lmstudio"

export interface FakeLocalServer {
  readonly url: string
  readonly port: number
  /** POSTs received (chat, responses, show), for assertions. */
  readonly posts: Array<{ readonly path: string; readonly body: Record<string, unknown> }>
  stop(): void
}

export interface Options {
  /** The models it has (pulled, or served). */
  readonly models: ReadonlyArray<string>
  /** The context it serves, in tokens. */
  readonly context: number
  /** Listen on this port (discovery tests use the default ports); else any free one. */
  readonly port?: number
  /** Ollama: whether the model is loaded (then /api/ps says its context). */
  readonly loaded?: boolean
}

/** The fakes count prompt tokens the way byok estimates them: four characters a token. */
const tokensOf = (messages: ReadonlyArray<{ content?: unknown }>) =>
  messages.reduce((n, m) => n + Math.ceil(String(m.content ?? "").length / 4) + 4, 0)

const chatAnswer = (text: string, promptTokens: number) =>
  sse(
    { model: "m", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] },
    { model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { model: "m", choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: 2 } },
    "[DONE]"
  )

const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } })
const stream = (body: string) => new Response(body, { headers: { "content-type": "text/event-stream" } })

export const startLocalServer = (kind: Kind, options: Options): FakeLocalServer => {
  const posts: FakeLocalServer["posts"] = []
  const { models, context } = options
  const modelList = { object: "list", data: models.map((id) => ({ id, object: "model", owned_by: kind, max_model_len: context })) }

  const chat = (body: Record<string, unknown>): Response => {
    const model = String(body["model"])
    const messages = (body["messages"] ?? []) as Array<{ content?: unknown }>
    const prompt = tokensOf(messages)
    const asked = prompt + Number(body["max_tokens"] ?? 0)
    switch (kind) {
      case "ollama":
        if (!models.includes(model)) {
          return json({ error: { message: `model "${model}" not found, try pulling it first`, type: "api_error", param: null, code: null } }, 404)
        }
        // Offered tools (the agent loop): Ollama sends a call whole in one chunk, and says "stop" even so (as
        // its OpenAI layer did); once the request carries the call's result, it answers.
        if (Array.isArray(body["tools"]) && body["tools"].length > 0 && (messages.at(-1) as { role?: string })?.role !== "tool") {
          const names = (body["tools"] as Array<{ function?: { name?: string } }>).map((t) => t.function?.name)
          const name = names.includes("LS") ? "LS" : String(names[0])
          return stream(sse(
            { model, choices: [{ index: 0, delta: { role: "assistant", content: "", tool_calls: [{ id: "call_ol1", index: 0, type: "function", function: { name, arguments: "{}" } }] }, finish_reason: null }] },
            { model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
            { model, choices: [], usage: { prompt_tokens: Math.min(prompt, context), completion_tokens: 5 } },
            "[DONE]"
          ))
        }
        // Ollama keeps the end of a prompt that does not fit, and counts what it kept.
        return stream(chatAnswer("ok", Math.min(prompt, context)))
      case "llama.cpp":
        if (prompt > context) {
          return json({
            error: {
              code: 400,
              message: `request (${prompt} tokens) exceeds the available context size (${context} tokens), try increasing it`,
              type: "exceed_context_size_error",
              n_prompt_tokens: prompt,
              n_ctx: context
            }
          }, 400)
        }
        return stream(chatAnswer("ok", prompt))
      case "vllm":
        if (asked > context) {
          return json({
            object: "error",
            message: `This model's maximum context length is ${context} tokens. However, you requested ${asked} tokens ` +
              `(${prompt} in the messages, ${asked - prompt} in the completion). Please reduce the length of the messages or completion.`,
            type: "BadRequestError",
            param: null,
            code: 400
          }, 400)
        }
        return stream(chatAnswer("ok", prompt))
      case "lmstudio":
        if (prompt > context) {
          return json({
            error: `Trying to keep the first ${prompt} tokens when context the overflows. However, the model is loaded with ` +
              `context length of only ${context} tokens, which is not enough. Try to load the model with a larger context length, ` +
              `or provide a shorter input`
          }, 400)
        }
        return stream(chatAnswer("ok", prompt))
    }
  }

  /** llama.cpp's Responses endpoint, strict as its converter: every input item must say its type. */
  const responses = (body: Record<string, unknown>): Response => {
    const input = Array.isArray(body["input"]) ? body["input"] as Array<Record<string, unknown>> : []
    for (const item of input) {
      const parts = Array.isArray(item["content"]) ? item["content"] as Array<Record<string, unknown>> : []
      if (item["type"] !== "message" || parts.length === 0 || parts.some((p) => typeof p["type"] !== "string")) {
        return json({ error: { code: 400, message: "Cannot determine type of 'item'", type: "invalid_request_error" } }, 400)
      }
    }
    return stream(sseNamed(
      ["response.created", { type: "response.created", response: { model: "m" } }],
      ["response.output_text.delta", { type: "response.output_text.delta", delta: `turn ${input.length}` }],
      ["response.completed", { type: "response.completed", response: { status: "completed", usage: { input_tokens: 9, output_tokens: 2 } } }]
    ))
  }

  const get = (path: string): Response => {
    switch (`${kind} ${path}`) {
      case "ollama /api/version":
        return json({ version: "0.13.0" })
      case "ollama /api/tags":
        return json({ models: models.map((name) => ({ name, model: name, size: 1, digest: "d", details: {} })) })
      case "ollama /api/ps":
        return json({ models: options.loaded ? models.map((name) => ({ name, model: name, context_length: context })) : [] })
      case "llama.cpp /props":
        return json({ default_generation_settings: { n_ctx: context }, model_path: "/models/tiny.gguf", build_info: "b1" })
      case "vllm /version":
        return json({ version: "0.11.0" })
      case "lmstudio /api/v0/models":
        return json({
          object: "list",
          data: models.map((id) => ({ id, object: "model", type: "llm", state: "loaded", max_context_length: 131072, loaded_context_length: context }))
        })
    }
    if (path === "/v1/models" || (kind === "ollama" && path === "/v1/models")) return json(modelList)
    if (kind === "llama.cpp" && path === "/health") return json({ status: "ok" })
    return new Response("404 page not found", { status: 404 })
  }

  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (req.method === "GET") return get(path)
      const body = await req.json().catch(() => ({})) as Record<string, unknown>
      posts.push({ path, body })
      if (kind === "ollama" && path === "/api/show") {
        return models.includes(String(body["model"]))
          ? json({ parameters: `num_ctx ${context}`, model_info: { "qwen3.context_length": 40960 } })
          : json({ error: `model '${String(body["model"])}' not found` }, 404)
      }
      if (path === "/v1/chat/completions") return chat(body)
      if (kind === "llama.cpp" && path === "/v1/responses") return responses(body)
      return new Response("404 page not found", { status: 404 })
    }
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port!,
    posts,
    stop: () => void server.stop(true)
  }
}
