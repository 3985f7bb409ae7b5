// Tool calls a model wrote as text instead of in the API's field, as local models often do: Hermes and Qwen
// `<tool_call>{"name": …, "arguments": …}</tool_call>`, Llama 3.1's `<|python_tag|>{"name": …, "parameters": …}`,
// or an answer that is nothing but a JSON object (or list of them) naming a declared tool. When tools were offered
// and the answer is such text, byok raises it as real calls, marked recovered. Only tools that were declared are
// recognised, so an answer that merely shows JSON is left alone.
import type { ToolCallPart, ToolDefinition } from "./conversation.ts"

export interface Recovered {
  readonly calls: ReadonlyArray<ToolCallPart>
  /** The answer's text without the calls. */
  readonly rest: string
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** `{name, arguments | parameters}` naming a declared tool → the call; anything else → undefined. */
const callOf = (value: unknown, names: ReadonlySet<string>, index: number, batch: string): ToolCallPart | undefined => {
  if (!isObject(value)) return undefined
  // OpenAI's own shape written out: {"type":"function","function":{"name","arguments"}}.
  const fields = isObject(value["function"]) ? value["function"] : value
  const name = fields["name"]
  if (typeof name !== "string" || !names.has(name)) return undefined
  const args = fields["arguments"] ?? fields["parameters"] ?? fields["input"] ?? {}
  return {
    type: "tool-call",
    // Unique across the conversation (APIs refuse two calls with one id), in the characters every API takes.
    id: `call_${batch}_${index}`,
    name,
    arguments: typeof args === "string" ? args : JSON.stringify(args),
    kind: "function",
    recovered: true
  }
}

export const recoverToolCalls = (text: string, tools: ReadonlyArray<ToolDefinition>): Recovered | undefined => {
  if (tools.length === 0 || text.trim() === "") return undefined
  const names = new Set(tools.map((t) => t.name))
  const calls: Array<ToolCallPart> = []
  const batch = crypto.randomUUID().replace(/-/g, "").slice(0, 12)

  // Hermes / Qwen: one block per call, anywhere in the answer.
  const tagged = [...text.matchAll(/<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g)]
  if (tagged.length > 0) {
    for (const match of tagged) {
      const call = callOf(parse(match[1]!), names, calls.length, batch)
      if (call === undefined) return undefined
      calls.push(call)
    }
    return { calls, rest: text.replace(/<tool_call>[\s\S]*?<\/tool_call>/g, "").trim() }
  }

  // Llama 3.1: the tag, then the call (or calls separated by ';').
  const python = /<\|python_tag\|>([\s\S]*?)(?:<\|eom_id\|>|<\|eot_id\|>|$)/.exec(text)
  if (python !== null) {
    for (const piece of python[1]!.split(/;\s*(?=\{)/)) {
      const call = callOf(parse(piece.trim()), names, calls.length, batch)
      if (call === undefined) return undefined
      calls.push(call)
    }
    return { calls, rest: text.slice(0, python.index).trim() }
  }

  // The whole answer a JSON call or list of calls, perhaps in a code fence.
  const bare = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, "$1")
  const value = parse(bare)
  for (const item of Array.isArray(value) ? value : [value]) {
    const call = callOf(item, names, calls.length, batch)
    if (call === undefined) return undefined
    calls.push(call)
  }
  return calls.length > 0 ? { calls, rest: "" } : undefined
}
