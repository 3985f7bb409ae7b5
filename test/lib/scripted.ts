// A scripted model for the agent loop, in each wire format: it answers with the next tool call of its script,
// reading the result of the previous one from the request in the format's own shape, and with text at the end.
import { type Format, answer } from "./faults.ts"
import { sse, sseNamed } from "./http.ts"
import type { Recorded } from "./server.ts"

/** A streamed answer that is one tool call (with a little text before it), in the format's shape. */
export const toolCallAnswer = (format: Format, id: string, name: string, args: unknown): string => {
  const json = JSON.stringify(args)
  const cut = Math.floor(json.length / 2)
  if (format === "anthropic") {
    return sseNamed(
      ["message_start", { type: "message_start", message: { model: "m", usage: { input_tokens: 20, output_tokens: 1 } } }],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "tool_use", id, name, input: {} } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: json.slice(0, cut) } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: json.slice(cut) } }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } }],
      ["message_stop", { type: "message_stop" }]
    )
  }
  if (format === "openai") {
    return sseNamed(
      ["response.created", { type: "response.created", response: { model: "m" } }],
      ["response.output_item.added", { type: "response.output_item.added", output_index: 0, item: { type: "function_call", id: `fc_${id}`, call_id: id, name, arguments: "" } }],
      ["response.function_call_arguments.delta", { type: "response.function_call_arguments.delta", output_index: 0, delta: json.slice(0, cut) }],
      ["response.function_call_arguments.delta", { type: "response.function_call_arguments.delta", output_index: 0, delta: json.slice(cut) }],
      ["response.output_item.done", { type: "response.output_item.done", output_index: 0, item: { type: "function_call", id: `fc_${id}`, call_id: id, name, arguments: json } }],
      ["response.completed", { type: "response.completed", response: { status: "completed", output: [{ type: "function_call" }], usage: { input_tokens: 20, output_tokens: 9 } } }]
    )
  }
  return sse(
    { model: "m", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id, type: "function", function: { name, arguments: json.slice(0, cut) } }] }, finish_reason: null }] },
    { model: "m", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: json.slice(cut) } }] }, finish_reason: null }] },
    { model: "m", choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
    { model: "m", choices: [], usage: { prompt_tokens: 20, completion_tokens: 9 } },
    "[DONE]"
  )
}

/** The tool results a request carries, in order, as {id, output, isError}, read from the format's own shape. */
export const resultsIn = (format: Format, req: Recorded): Array<{ id: string; output: string; isError: boolean }> => {
  const body = req.body as Record<string, unknown>
  if (format === "anthropic") {
    return (body["messages"] as Array<{ content: unknown }>).flatMap((m) =>
      Array.isArray(m.content)
        ? (m.content as Array<Record<string, unknown>>).filter((b) => b["type"] === "tool_result").map((b) => ({
          id: String(b["tool_use_id"]),
          output: String(b["content"]),
          isError: b["is_error"] === true
        }))
        : []
    )
  }
  if (format === "openai") {
    return (body["input"] as Array<Record<string, unknown>>).filter((i) => i["type"] === "function_call_output").map((i) => ({
      id: String(i["call_id"]),
      output: String(i["output"]),
      isError: false
    }))
  }
  return (body["messages"] as Array<Record<string, unknown>>).filter((m) => m["role"] === "tool").map((m) => ({
    id: String(m["tool_call_id"]),
    output: String(m["content"]),
    isError: false
  }))
}

export interface Step {
  readonly name: string
  readonly args: unknown
}

/**
 * A handler that plays a script: its Nth step while the request carries N-1 results, then `final` as text. Each
 * request's results are kept, for the test to check what the model was given.
 */
export const scripted = (format: Format, steps: ReadonlyArray<Step>, final: string) => {
  const seen: Array<Array<{ id: string; output: string; isError: boolean }>> = []
  const handler = (req: Recorded) => {
    const results = resultsIn(format, req)
    seen.push(results)
    const step = steps[results.length]
    const body = step !== undefined ? toolCallAnswer(format, `call_${results.length + 1}`, step.name, step.args) : answer(format, [final])
    return new Response(body, { headers: { "content-type": "text/event-stream" } })
  }
  return { handler, seen }
}
