// Tool calls local models write as text: Hermes/Qwen tags, Llama's python tag, a bare JSON call. Raised as real
// calls only when tools were offered and the call names one of them.
import { describe, expect, test } from "bun:test"
import { recoverToolCalls } from "../src/providers/recover.ts"

const tools = [{ name: "get_weather", parameters: { type: "object" } }, { name: "get_time", parameters: { type: "object" } }]
const calls = (text: string) => recoverToolCalls(text, tools)?.calls.map((c) => [c.name, JSON.parse(c.arguments), c.recovered])

describe("tool calls written as text", () => {
  test("Hermes and Qwen: <tool_call> blocks, one per call; the text around them is kept as the answer", () => {
    const text = "I'll check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>{\"name\":\"get_time\",\"arguments\":{}}</tool_call>"
    expect(calls(text)).toEqual([["get_weather", { city: "Paris" }, true], ["get_time", {}, true]])
    expect(recoverToolCalls(text, tools)?.rest).toBe("I'll check.")
  })
  test("Llama 3.1: <|python_tag|> with parameters, several separated by ;", () => {
    expect(calls("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}; {\"name\": \"get_time\", \"parameters\": {}}<|eom_id|>"))
      .toEqual([["get_weather", { city: "Oslo" }, true], ["get_time", {}, true]])
  })
  test("a bare JSON object or list naming a declared tool, in a code fence or not; OpenAI's own shape written out", () => {
    expect(calls("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}")).toEqual([["get_weather", { city: "Rome" }, true]])
    expect(calls("```json\n[{\"name\": \"get_time\", \"arguments\": \"{}\"}]\n```")).toEqual([["get_time", {}, true]])
    expect(calls("{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\\\":\\\"UTC\\\"}\"}}")).toEqual([["get_time", { tz: "UTC" }, true]])
  })
  test("left alone: no tools offered, an undeclared name, JSON that is data, prose, a broken tag", () => {
    expect(recoverToolCalls("{\"name\": \"get_weather\", \"arguments\": {}}", [])).toBeUndefined()
    expect(calls("{\"name\": \"delete_everything\", \"arguments\": {}}")).toBeUndefined()
    expect(calls("{\"city\": \"Paris\", \"temp\": 18}")).toBeUndefined()
    expect(calls("The weather in Paris is mild.")).toBeUndefined()
    expect(calls("<tool_call>{not json}</tool_call>")).toBeUndefined()
  })
  test("ids are unique: two answers never share one", () => {
    const a = recoverToolCalls("{\"name\": \"get_time\", \"arguments\": {}}", tools)!.calls[0]!.id
    const b = recoverToolCalls("{\"name\": \"get_time\", \"arguments\": {}}", tools)!.calls[0]!.id
    expect(a).not.toBe(b)
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/)
  })
})
