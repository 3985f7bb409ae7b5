// Tool definitions as users and other tools write them, in any of the three APIs' shapes, made into byok's one
// shape (a name, a description, a JSON Schema for the arguments): Chat Completions'
// `{type: "function", function: {name, description, parameters}}`, Responses' flat
// `{type: "function", name, description, parameters}`, and Anthropic's `{name, description, input_schema}`. A list,
// or an object with a `tools` list. Each problem names the entry and the field.
import type { ToolDefinition } from "./conversation.ts"

export interface ToolsRead {
  readonly tools: ReadonlyArray<ToolDefinition>
  /** What is wrong, one line each: `tools[2].function.name: missing`. */
  readonly issues: ReadonlyArray<string>
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** What the APIs take as a tool's name: letters, digits, `_` and `-`, at most 64 (Anthropic's and OpenAI's rule). */
const NAME = /^[A-Za-z0-9_-]{1,64}$/

export const readTools = (value: unknown): ToolsRead => {
  const list = Array.isArray(value) ? value : isObject(value) && Array.isArray(value["tools"]) ? value["tools"] : undefined
  if (list === undefined) return { tools: [], issues: ["expected a JSON list of tool definitions (or an object with a \"tools\" list)"] }
  const tools: Array<ToolDefinition> = []
  const issues: Array<string> = []
  const names = new Set<string>()
  list.forEach((raw, i) => {
    const at = `tools[${i}]`
    if (!isObject(raw)) return void issues.push(`${at}: expected an object, found ${JSON.stringify(raw)?.slice(0, 40)}`)
    // Chat Completions nests the function; Responses and Anthropic do not.
    const nested = isObject(raw["function"])
    const fields = nested ? (raw["function"] as Record<string, unknown>) : raw
    const where = nested ? `${at}.function` : at
    const name = fields["name"]
    const schema = fields["parameters"] ?? fields["input_schema"] ?? { type: "object", properties: {} }
    const description = fields["description"]
    if (typeof name !== "string" || name === "") return void issues.push(`${where}.name: missing (a tool needs a name)`)
    if (!NAME.test(name)) return void issues.push(`${where}.name: "${name}" may hold only letters, digits, _ and -, up to 64`)
    if (names.has(name)) return void issues.push(`${where}.name: "${name}" is defined twice`)
    if (!isObject(schema)) {
      return void issues.push(`${where}.${"input_schema" in fields ? "input_schema" : "parameters"}: expected a JSON Schema object`)
    }
    if (description !== undefined && typeof description !== "string") return void issues.push(`${where}.description: expected text`)
    names.add(name)
    tools.push({ name, ...(typeof description === "string" ? { description } : {}), parameters: schema })
  })
  return { tools, issues }
}
