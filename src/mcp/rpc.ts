// The JSON-RPC half that byok's own MCP transports share (stdio, legacy SSE, Streamable HTTP): requests waiting for
// their responses, the server's own requests answered, its notifications passed on, and the server's log.
import { Effect } from "effect"
import type * as McpClient from "effect/ai/McpClient"
import { McpClientError, TransportError } from "effect/ai/McpClientError"
import type * as McpProtocol from "effect/ai/McpProtocol"
import type * as McpSchema from "effect/ai/McpSchema"
import { appendFileSync } from "node:fs"

export type Protocol = McpProtocol.ProtocolAdapter<McpClient.ProtocolVersion>
export const MAX_LINE = 16 * 1024 * 1024

export const problem = (description: string) => new McpClientError({ reason: new TransportError({ description }) })

/** A server's log: its stderr as it comes (`raw`) and byok's dated notes, both through the redactor. */
export interface Log {
  readonly raw: (text: string) => void
  readonly note: (text: string) => void
}

export const logTo = (file: string | undefined, redact: (text: string) => string): Log => {
  const append = (text: string) => {
    if (file === undefined) return
    try {
      appendFileSync(file, redact(text), { mode: 0o600 })
    } catch {
      // a log that cannot be written is not worth stopping a tool for
    }
  }
  return { raw: append, note: (text) => append(`[byok ${new Date().toISOString()}] ${text}\n`) }
}

export type Message = Record<string, unknown>

/** What byok answers a server's own request with: a result, or an error's code and message. */
export type Answer = { readonly result: unknown } | { readonly error: { readonly code: number; readonly message: string } }

/** The server's requests and notifications beyond ping and list_changed (connect's, from the user's settings). */
export interface ServerHooks {
  /** A request of the server's (elicitation/create, roots/list); undefined: not one byok takes. */
  readonly answer?: ((method: string, params: Record<string, unknown>) => Promise<Answer> | undefined) | undefined
  /** A notification of the server's (progress, logging). */
  readonly notified?: ((method: string, params: Record<string, unknown>) => void) | undefined
}

/**
 * The JSON-RPC half of byok's transports: requests waiting for their responses, the server's own requests
 * answered (ping, and what `hooks.answer` takes; the rest declined), and notifications passed on.
 */
export const channel = (options: {
  readonly protocol: Protocol
  readonly send: (json: string) => void
  readonly log: Log
  readonly onListChanged: () => void
  readonly hooks?: ServerHooks | undefined
}) => {
  const pending = new Map<string | number, (response: Message | McpClientError) => void>()
  let ended: string | undefined
  const reply = (id: unknown, answer: Answer) => {
    if (ended === undefined) options.send(JSON.stringify({ jsonrpc: "2.0", id, ...answer }))
  }
  const receive = (message: Message) => {
    const id = message["id"] as string | number | undefined
    const method = message["method"]
    const params = typeof message["params"] === "object" && message["params"] !== null ? message["params"] as Record<string, unknown> : {}
    if (typeof method === "string") {
      if (id !== undefined) {
        const answered = method === "ping" ? Promise.resolve({ result: {} }) : options.hooks?.answer?.(method, params)
        if (answered === undefined) reply(id, { error: { code: -32601, message: `byok does not support ${method}` } })
        else {
          answered.then((answer) => reply(id, answer), (error: Error) => reply(id, { error: { code: -32603, message: error.message } }))
        }
      } else if (method === "notifications/tools/list_changed") options.onListChanged()
      else options.hooks?.notified?.(method, params)
      return
    }
    if (id !== undefined) pending.get(id)?.(message)
  }
  const receiveLine = (line: string) => {
    if (line.trim() === "") return
    let message: unknown
    try {
      message = JSON.parse(line)
    } catch {
      message = undefined
    }
    if (typeof message !== "object" || message === null || (message as Message)["jsonrpc"] !== "2.0") {
      options.log.note(`ignored a message that is not JSON-RPC: ${line.slice(0, 200)}`)
      return
    }
    receive(message as Message)
  }
  const end = (why: string) => {
    if (ended !== undefined) return
    ended = why
    for (const resolve of pending.values()) resolve(problem(why))
    pending.clear()
  }
  const transport: McpClient.Transport = {
    ["~effect/ai/McpClient/Transport"]: "~effect/ai/McpClient/Transport",
    protocol: options.protocol,
    isCallable: () => true,
    notify: (message) =>
      Effect.suspend(() => {
        if (ended !== undefined) return Effect.fail(problem(ended))
        options.send(JSON.stringify(message))
        return Effect.void
      }),
    request: (message) =>
      Effect.callback<McpSchema.JsonRpcResponse, McpClientError>((resume) => {
        if (ended !== undefined) return resume(Effect.fail(problem(ended)))
        pending.set(message.id, (response) => {
          pending.delete(message.id)
          resume(response instanceof McpClientError ? Effect.fail(response) : Effect.succeed(response as unknown as McpSchema.JsonRpcResponse))
        })
        options.send(JSON.stringify(message))
        // Interrupted (Ctrl-C, the call's timeout): the server is told to stop working on it.
        return Effect.sync(() => {
          if (!pending.delete(message.id) || ended !== undefined || message.method === "initialize") return
          options.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: message.id, reason: "cancelled by the user or timed out" } }))
        })
      })
  }
  /** A message the server would not take: its request (if it was one) fails with why. */
  const refuse = (json: string, why: string) => {
    const id = (JSON.parse(json) as Message)["id"] as string | number | undefined
    if (id !== undefined) pending.get(id)?.(problem(why))
  }
  /** A request's failure, said by the transport (an HTTP status with its challenge). */
  const reject = (id: string | number, error: McpClientError) => pending.get(id)?.(error)
  const isPending = (id: string | number) => pending.has(id)
  return { transport, receive, receiveLine, end, refuse, reject, isPending, ended: () => ended }
}

/** Calls `onLine` with each line of a byte stream (and its unterminated end); a line over 16 MiB ends the reading. */
export const eachLine = async (stream: ReadableStream<Uint8Array>, onLine: (line: string) => void, tooLong: () => void): Promise<void> => {
  const decoder = new TextDecoder()
  let buffer = ""
  try {
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true })
      let index: number
      while ((index = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, index))
        buffer = buffer.slice(index + 1)
      }
      if (buffer.length > MAX_LINE) {
        tooLong()
        return
      }
    }
  } catch {
    // the stream ended badly: the process's exit says why
  }
  if (buffer.trim() !== "") onLine(buffer)
}


/** One server-sent event: its type, id (when it carries one) and data. */
export interface SseEvent {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
}

/**
 * The line reader of an event stream (the WHATWG rules byok needs): `event`, `id`, `retry` and `data` fields, an
 * event dispatched at its blank line, a `\r` before the `\n` dropped, comments skipped. `retry` is told as it comes.
 */
export const sseLines = (onEvent: (event: SseEvent) => void, onRetry: (ms: number) => void = () => {}) => {
  let event = "message"
  let id: string | undefined
  let data: Array<string> = []
  return (raw: string) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw
    if (line === "") {
      // An event with only an id still moves the stream's last event id (a priming event): it is told too.
      if (data.length > 0 || id !== undefined) onEvent({ event, id, data: data.join("\n") })
      event = "message"
      id = undefined
      data = []
      return
    }
    if (line.startsWith(":")) return
    const colon = line.indexOf(":")
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "")
    if (field === "event") event = value
    else if (field === "data") data.push(value)
    else if (field === "id" && !value.includes("\0")) id = value
    else if (field === "retry" && /^\d+$/.test(value)) onRetry(Number(value))
  }
}
