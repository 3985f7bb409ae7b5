// An MCP server's elicitation/create (form mode): what it asks, the form's defaults (SEP-1034), and the answer.
// The server's words and field names are untrusted text: shown only through stripControls, and cut short.
import { stripControls } from "../lib/controls.ts"

export interface Field {
  readonly name: string
  readonly type: "string" | "number" | "integer" | "boolean"
  readonly title: string | undefined
  readonly options: ReadonlyArray<string> | undefined
  readonly default: unknown
  readonly required: boolean
}

export interface Elicitation {
  readonly server: string
  readonly message: string
  readonly fields: ReadonlyArray<Field>
  /** URL mode: the page the server asks the person to open (an https or http URL), and no fields. */
  readonly url?: string | undefined
}

export type ElicitResult =
  | { readonly action: "accept"; readonly content?: Record<string, unknown> | undefined }
  | { readonly action: "decline" }
  | { readonly action: "cancel" }

const text = (value: unknown, max: number) => stripControls(typeof value === "string" ? value : "").replace(/\s+/g, " ").trim().slice(0, max)

/** A default that fits its field's type (and enum); undefined when there is none or it does not fit. */
const fitting = (type: Field["type"], options: ReadonlyArray<string> | undefined, value: unknown): unknown => {
  if (value === undefined) return undefined
  if (type === "string") return typeof value === "string" && (options === undefined || options.includes(value)) ? value : undefined
  if (type === "boolean") return typeof value === "boolean" ? value : undefined
  if (type === "integer") return typeof value === "number" && Number.isInteger(value) ? value : undefined
  return typeof value === "number" && Number.isFinite(value) ? value : undefined
}

/** The form a server asks for; a string saying why it cannot be shown (URL mode, a schema byok cannot fill). */
export const readElicitation = (server: string, params: Record<string, unknown>): Elicitation | string => {
  if (params["mode"] === "url") {
    const url = typeof params["url"] === "string" ? params["url"] : ""
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) return "a page to open whose address is not an http(s) URL"
    return { server, message: typeof params["message"] === "string" ? params["message"] : "", fields: [], url: parsed.href }
  }
  const schema = params["requestedSchema"] as { properties?: unknown; required?: unknown } | undefined
  const properties = typeof schema?.properties === "object" && schema.properties !== null ? schema.properties as Record<string, Record<string, unknown>> : {}
  const required = Array.isArray(schema?.required) ? (schema.required as Array<unknown>).filter((x): x is string => typeof x === "string") : []
  const fields: Array<Field> = []
  for (const [name, raw] of Object.entries(properties).slice(0, 50)) {
    if (typeof raw !== "object" || raw === null) return `the field "${text(name, 40)}" has no schema`
    const type = raw["type"]
    if (type !== "string" && type !== "number" && type !== "integer" && type !== "boolean") return `the field "${text(name, 40)}" is of a type a form cannot hold`
    const options = Array.isArray(raw["enum"])
      ? (raw["enum"] as Array<unknown>).filter((x): x is string => typeof x === "string")
      : Array.isArray(raw["oneOf"])
      ? (raw["oneOf"] as Array<{ const?: unknown }>).map((o) => o?.const).filter((x): x is string => typeof x === "string")
      : undefined
    fields.push({
      name,
      type,
      title: typeof raw["title"] === "string" ? raw["title"] : undefined,
      options,
      default: fitting(type, options, raw["default"]),
      required: required.includes(name)
    })
  }
  return { server, message: typeof params["message"] === "string" ? params["message"] : "", fields }
}

/** The answer with every field's default (SEP-1034); the required fields without one, when there are any. */
export const withDefaults = (form: Elicitation): { readonly content: Record<string, unknown>; readonly missing: ReadonlyArray<string> } => {
  const content: Record<string, unknown> = {}
  const missing: Array<string> = []
  for (const field of form.fields) {
    if (field.default !== undefined) content[field.name] = field.default
    else if (field.required) missing.push(field.name)
  }
  return { content, missing }
}

/** The form as lines for a person: the server's message, then each field with its default. */
export const formLines = (form: Elicitation): ReadonlyArray<string> => [
  `The MCP server "${form.server}" asks: ${text(form.message, 300) || "(no message)"}`,
  ...(form.url !== undefined ? [`  to open: ${text(form.url, 500)}`] : []),
  ...form.fields.map((f) => {
    const kind = f.options !== undefined ? f.options.map((o) => text(o, 30)).join("|") : f.type
    const value = f.default !== undefined ? JSON.stringify(f.default).slice(0, 80) : f.required ? "(required, no default)" : "(left out)"
    return `  ${text(f.title ?? f.name, 60)} (${kind}): ${stripControls(value)}`
  })
]

/**
 * What a person typed for a field: its value in the field's type; empty, the default (or nothing for a field that
 * may be left out); a problem to say when it does not fit (the field is asked again).
 */
export const fieldValue = (field: Field, typed: string): { readonly value: unknown } | { readonly problem: string } => {
  const text = typed.trim()
  if (text === "") return field.default !== undefined || !field.required ? { value: field.default } : { problem: `${field.name} is required` }
  if (field.options !== undefined) {
    const index = /^\d+$/.test(text) ? Number(text) - 1 : -1
    const chosen = field.options.find((o) => o.toLowerCase() === text.toLowerCase()) ?? field.options[index]
    return chosen !== undefined ? { value: chosen } : { problem: `one of ${field.options.join(", ")} (or its number)` }
  }
  if (field.type === "boolean") {
    if (/^(y|yes|true)$/i.test(text)) return { value: true }
    if (/^(n|no|false)$/i.test(text)) return { value: false }
    return { problem: "y or n" }
  }
  if (field.type === "number" || field.type === "integer") {
    const n = Number(text)
    if (!Number.isFinite(n) || (field.type === "integer" && !Number.isInteger(n))) return { problem: `a ${field.type === "integer" ? "whole " : ""}number` }
    return { value: n }
  }
  return { value: text }
}
