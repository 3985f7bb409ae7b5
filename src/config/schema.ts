// The shapes of the config files byok reads and the validation of one model entry.
// Factory's droid keeps models in ~/.factory/config.json (`custom_models`, snake_case) and
// ~/.factory/settings.json (`customModels`, camelCase, plus extraArgs/extraHeaders); byok reads both shapes from
// any file. Validation is written out by hand rather than decoded with Schema because every message must name
// the file, the entry and the field, suggest the fix, and one bad entry must never hide the good ones.
import { Redacted } from "effect"
import type { Price } from "../ledger/prices.ts"
import { type Endpoint, parseEndpoint } from "../lib/net.ts"
import { closest } from "../lib/text.ts"
import { isProviderName, providerForAlias, type ProviderName, PROVIDERS } from "../providers/names.ts"
import type { ConfigIssue } from "./errors.ts"

/** A validated model entry, the same whichever file and shape it came from. */
export interface ModelEntry {
  readonly displayName: string
  readonly model: string
  /** Without a trailing slash. */
  readonly baseUrl: string
  /** base_url parsed, once: host, port, path, and whether the host is local. */
  readonly endpoint: Endpoint
  readonly apiKey: Redacted.Redacted<string>
  readonly provider: ProviderName
  /** Output tokens (droid's `max_tokens` / `maxOutputTokens`). */
  readonly maxOutputTokens: number
  /** Merged into the request body (settings.json `extraArgs`). */
  readonly extraArgs: Readonly<Record<string, unknown>>
  readonly extraHeaders: Readonly<Record<string, string>>
  /** Anthropic prompt-cache lifetime (byok's own field `cacheTtl` / `cache_ttl`): 5 minutes (default) or 1 hour. */
  readonly cacheTtl: "5m" | "1h"
  /** byok's own field `timeout`: seconds to wait for the answer to start, and between its pieces. */
  readonly timeout?: number
  /** byok's own field `caFile` / `ca_file`: the CA (PEM) the server's certificate comes from. */
  readonly caFile?: string
  /** byok's own field `contextWindow` / `context_window`: the model's context window, in tokens. */
  readonly contextWindow?: number
  /** byok's own field `fallbackModels` / `fallback_models`: the models that answer, in order, when this one cannot. */
  readonly fallbackModels?: ReadonlyArray<string>
  /** droid's `reasoningEffort` (byok also reads `reasoning_effort` in config.json): how hard the model thinks. */
  readonly reasoningEffort?: ReasoningEffort
  /**
   * droid's `noImageSupport: true` (or the older `supportsImages: false`): images are refused before sending. The
   * field as the file spells it, for the message.
   */
  readonly noImageSupport?: string
  /**
   * Where it was defined, for messages: `~/.factory/config.json`, `custom_models[2]`; and whether the key is
   * written there as it is (not `${VAR}`), which the doctor checks the file's permissions for.
   */
  readonly source: { readonly file: string; readonly path: string; readonly literalKey?: boolean }
}

/**
 * How hard a reasoning model thinks: `off` sends nothing about it (the model's own default), `none` asks for no
 * reasoning, `low`, `medium`, `high` for more. droid's `minimal` is read as low and `xhigh` as high.
 */
export type ReasoningEffort = "off" | "none" | "low" | "medium" | "high"
export const REASONING_EFFORTS: ReadonlyArray<ReasoningEffort> = ["off", "none", "low", "medium", "high"]

export const reasoningEffortOf = (value: unknown): ReasoningEffort | undefined => {
  if (typeof value !== "string") return undefined
  const v = value.trim().toLowerCase()
  if (v === "minimal") return "low"
  if (v === "xhigh" || v === "max") return "high"
  return (REASONING_EFFORTS as ReadonlyArray<string>).includes(v) ? v as ReasoningEffort : undefined
}

/** The two spellings of an entry: droid's config.json and settings.json. */
export interface EntryShape {
  readonly listKey: "custom_models" | "customModels"
  readonly fields: {
    readonly displayName: string
    readonly model: string
    readonly baseUrl: string
    readonly apiKey: string
    readonly provider: string
    readonly maxOutputTokens: string
    readonly cacheTtl: string
    readonly timeout: string
    readonly caFile: string
    readonly reasoningEffort: string
    readonly contextWindow: string
    readonly fallbackModels: string
  }
  readonly extras: boolean
}

export const SnakeShape: EntryShape = {
  listKey: "custom_models",
  fields: {
    displayName: "model_display_name",
    model: "model",
    baseUrl: "base_url",
    apiKey: "api_key",
    provider: "provider",
    maxOutputTokens: "max_tokens",
    cacheTtl: "cache_ttl",
    timeout: "timeout",
    caFile: "ca_file",
    reasoningEffort: "reasoning_effort",
    contextWindow: "context_window",
    fallbackModels: "fallback_models"
  },
  extras: false
}

export const CamelShape: EntryShape = {
  listKey: "customModels",
  fields: {
    displayName: "displayName",
    model: "model",
    baseUrl: "baseUrl",
    apiKey: "apiKey",
    provider: "provider",
    maxOutputTokens: "maxOutputTokens",
    cacheTtl: "cacheTtl",
    timeout: "timeout",
    caFile: "caFile",
    reasoningEffort: "reasoningEffort",
    contextWindow: "contextWindow",
    fallbackModels: "fallbackModels"
  },
  extras: true
}

/** What a user most likely meant by a provider string that is not one: an alias (`claude`), or a near miss. */
export const suggestProvider = (value: string): ProviderName | undefined =>
  providerForAlias(value) ?? (closest(value, PROVIDERS) as ProviderName | undefined)

export const invalidProviderMessage = (value: string): string => {
  const suggestion = suggestProvider(value)
  const list = PROVIDERS.map((p) => `"${p}"`).join(", ")
  return `Invalid provider ${JSON.stringify(value)}: must be one of ${list} (exactly, lower case)` +
    (suggestion ? `. Did you mean "${suggestion}"?` : "")
}

/** A variable's name where its value was meant: `$NAME` (a shell's form) or `%NAME%` (Windows'). */
export const UNEXPANDED_KEY = /^(?:\$([A-Za-z_][A-Za-z0-9_]*)|%([A-Za-z_][A-Za-z0-9_]*)%)$/

/** `${VAR}`, and `${file:/run/secrets/NAME}` (a secret file's content, trimmed: the container way). */
const ENV_REF = /\$\{((?:file:[^}]+)|[A-Za-z_][A-Za-z0-9_]*)\}/g

/** What a reference stands for: the value, or why it has none (never the file's content). */
export type RefValue = string | { readonly unreadable: string }

/** What a `${…}` in a project's file stands for: nothing (config/trust.ts). */
export const PROJECT_REF = "project"

/**
 * Every `${VAR}` name and `${file:PATH}` (as `file:PATH`) used anywhere in a JSON value. Iterative: a file may
 * nest deeper than the call stack.
 */
export const envRefs = (value: unknown): Set<string> => {
  const into = new Set<string>()
  const todo: Array<unknown> = [value]
  while (todo.length > 0) {
    const v = todo.pop()
    if (typeof v === "string") for (const m of v.matchAll(ENV_REF)) into.add(m[1]!)
    else if (Array.isArray(v)) todo.push(...v)
    else if (isRecord(v)) todo.push(...Object.values(v))
  }
  return into
}

/** How deep an entry may nest (extraArgs objects): far more than any API takes, far less than the call stack. */
export const MAX_ENTRY_DEPTH = 64

/** Whether a JSON value nests deeper than `limit` levels; iterative, and it stops at the first too-deep branch. */
export const nestsDeeperThan = (value: unknown, limit: number): boolean => {
  const todo: Array<readonly [unknown, number]> = [[value, 0]]
  while (todo.length > 0) {
    const [v, depth] = todo.pop()!
    if (typeof v !== "object" || v === null) continue
    if (depth >= limit) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) todo.push([child, depth + 1])
  }
  return false
}

/**
 * Expands `${VAR}` and `${file:PATH}` in every string of a JSON value; each unset variable and each unreadable file
 * becomes an issue at its path (`why` says which, without the file's content).
 */
export const expandEnv = (
  value: unknown,
  env: ReadonlyMap<string, RefValue>,
  path: string,
  onMissing: (path: string, name: string, why: string) => void
): unknown => {
  if (typeof value === "string") {
    return value.replace(ENV_REF, (_, name: string) => {
      const v = env.get(name)
      if (typeof v === "string") return v
      onMissing(
        path,
        name,
        name.startsWith("file:")
          ? v?.unreadable === PROJECT_REF
            ? `\${${name}} is not read: this entry comes from a project file, which sets its own base_url, and byok sends no secret file to an address a project chose (define the model in your own settings.json instead)`
            : `cannot read the secret file ${name.slice(5)}: ${v?.unreadable ?? "no such file"}`
          : v?.unreadable === PROJECT_REF
          ? `\${${name}} is not expanded: this entry comes from a project file, which sets its own base_url, and byok sends no environment value to an address a project chose (define the model in your own settings.json instead)`
          : v !== undefined
          ? `environment variable ${name} is set but empty (give it the value in the shell that runs byok)`
          : `environment variable ${name} is not set (export ${name}=… in the shell that runs byok)`
      )
      return ""
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${path}[${i}]`, onMissing))
  if (isRecord(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, `${path}.${k}`, onMissing)
    return out
  }
  return value
}

export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const typeName = (u: unknown) => (u === null ? "null" : Array.isArray(u) ? "an array" : `a ${typeof u}`)

/**
 * Validates one entry. Returns the entry, or the issues that keep it from being used. Unknown fields are ignored
 * (droid writes fields byok does not use), except where they look like a misspelt required one.
 */
export const validateEntry = (
  raw: unknown,
  shape: EntryShape,
  file: string,
  index: number,
  env: ReadonlyMap<string, RefValue>
): {
  readonly entry?: ModelEntry
  readonly issues: ReadonlyArray<ConfigIssue>
  /** The entry's secrets (its key and header values), valid entry or not: the redactor must know them all. */
  readonly secrets: ReadonlyArray<string>
} => {
  const path = `${shape.listKey}[${index}]`
  const issues: Array<ConfigIssue> = []
  if (!isRecord(raw)) {
    return {
      issues: [{ file, path, message: `must be an object with the model's fields, found ${typeName(raw)}` }],
      secrets: []
    }
  }
  const rawName = raw[shape.fields.displayName]
  const entryName = typeof rawName === "string" && rawName.trim() !== "" ? rawName : undefined
  if (nestsDeeperThan(raw, MAX_ENTRY_DEPTH)) {
    return {
      issues: [{
        file,
        path,
        ...(entryName ? { entry: entryName } : {}),
        message: `nests more than ${MAX_ENTRY_DEPTH} levels deep; no API takes that, so the entry is not read`
      }],
      secrets: typeof raw[shape.fields.apiKey] === "string" ? [raw[shape.fields.apiKey] as string] : []
    }
  }
  const issue = (field: string, message: string) =>
    issues.push({ file, path: `${path}.${field}`, ...(entryName ? { entry: entryName } : {}), message })

  const expanded = expandEnv(raw, env, path, (at, _, why) =>
    issues.push({ file, path: at, ...(entryName ? { entry: entryName } : {}), message: why, environment: true })) as Record<string, unknown>

  const secrets: Array<string> = []
  const rawKey = expanded[shape.fields.apiKey]
  // A variable's name written as the key ("$OPENAI_API_KEY") is no secret: it is shown, with the fix
  // (config.ts unexpandedKeyWarning).
  if (typeof rawKey === "string" && !UNEXPANDED_KEY.test(rawKey.trim())) secrets.push(rawKey)
  if (isRecord(expanded["extraHeaders"])) {
    for (const v of Object.values(expanded["extraHeaders"])) if (typeof v === "string") secrets.push(v)
  }

  const known = new Set<string>([...Object.values(shape.fields), "extraArgs", "extraHeaders"])
  const unknownKeys = Object.keys(expanded).filter((k) => !known.has(k))

  /** The same field in the other file's spelling (`model_display_name` in a customModels entry), if written so. */
  const otherSpelling = (field: string): string | undefined => {
    const other = shape === SnakeShape ? CamelShape : SnakeShape
    const key = (Object.keys(shape.fields) as Array<keyof EntryShape["fields"]>).find((k) => shape.fields[k] === field)
    const spelled = key !== undefined ? other.fields[key] : undefined
    return spelled !== undefined && spelled !== field && unknownKeys.includes(spelled) ? spelled : undefined
  }
  const typoOf = (field: string) => {
    const other = otherSpelling(field)
    if (other !== undefined) {
      return ` (found "${other}": did you mean "${field}"? ${shape.listKey} entries are spelled ${shape === CamelShape ? "camelCase" : "snake_case"})`
    }
    const typo = closest(field, unknownKeys)
    return typo ? ` (found "${typo}": did you mean "${field}"?)` : ""
  }
  /** Local servers take any text as a key, which a user setting one up cannot guess. */
  const keyHint = (field: string) =>
    field === shape.fields.apiKey ? `; local servers (Ollama, llama.cpp, LM Studio, vLLM) accept any text, e.g. "ollama"` : ""
  /** A field whose ${VAR} or ${file:…} already said what is wrong: no second issue for it. */
  const saidAlready = (field: string) => issues.some((i) => i.path === `${path}.${field}`)

  const requiredString = (field: string): string | undefined => {
    const v = expanded[field]
    if (v === undefined || v === null) {
      issue(field, `missing required field` + typoOf(field) + keyHint(field))
      return undefined
    }
    if (typeof v !== "string") {
      issue(field, `must be a string, found ${typeName(v)}`)
      return undefined
    }
    if (v.trim() === "") {
      if (!saidAlready(field)) issue(field, "must not be empty" + keyHint(field))
      return undefined
    }
    return v
  }

  const f = shape.fields
  const displayName = requiredString(f.displayName)
  const model = requiredString(f.model)
  const baseUrlRaw = requiredString(f.baseUrl)
  const apiKey = requiredString(f.apiKey)
  const providerRaw = requiredString(f.provider)

  let baseUrl: string | undefined
  let endpoint: Endpoint | undefined
  if (baseUrlRaw !== undefined) {
    baseUrl = baseUrlRaw.trim().replace(/\/+$/, "")
    endpoint = parseEndpoint(baseUrl)
    if (endpoint === undefined) {
      issue(f.baseUrl, `must be an http:// or https:// URL, found ${JSON.stringify(baseUrlRaw)}`)
    }
  }

  let provider: ProviderName | undefined
  if (providerRaw !== undefined) {
    if (isProviderName(providerRaw)) provider = providerRaw
    else issue(f.provider, invalidProviderMessage(providerRaw))
  }

  let maxOutputTokens: number | undefined
  const mt = expanded[f.maxOutputTokens]
  if (mt === undefined || mt === null) {
    issue(f.maxOutputTokens, "missing required field: the most output tokens per answer, e.g. 8192" + typoOf(f.maxOutputTokens))
  } else if (typeof mt === "string" && /^\s*\d+\s*$/.test(mt)) {
    issue(f.maxOutputTokens, `must be a number, found the string ${JSON.stringify(mt)}: write it without quotes`)
  } else if (typeof mt !== "number" || !Number.isInteger(mt) || mt <= 0) {
    issue(f.maxOutputTokens, `must be a positive whole number, found ${JSON.stringify(mt)}`)
  } else {
    maxOutputTokens = mt
  }

  let cacheTtl: "5m" | "1h" = "5m"
  const ttl = expanded[f.cacheTtl]
  if (ttl !== undefined && ttl !== null) {
    if (ttl === "5m" || ttl === "1h") cacheTtl = ttl
    else issue(f.cacheTtl, `must be "5m" or "1h", found ${JSON.stringify(ttl)}`)
  }

  let timeout: number | undefined
  const to = expanded[f.timeout]
  if (to !== undefined && to !== null) {
    if (typeof to === "number" && Number.isFinite(to) && to > 0) timeout = to
    else issue(f.timeout, `must be a number of seconds above 0, found ${JSON.stringify(to)}`)
  }

  let contextWindow: number | undefined
  const cw = expanded[f.contextWindow]
  if (cw !== undefined && cw !== null) {
    if (typeof cw === "number" && Number.isInteger(cw) && cw >= 512) contextWindow = cw
    else issue(f.contextWindow, `must be the model's context window in tokens, a whole number of 512 or more, found ${JSON.stringify(cw)}`)
  }

  let fallbackModels: ReadonlyArray<string> | undefined
  const fm = expanded[f.fallbackModels]
  if (fm !== undefined && fm !== null) {
    if (Array.isArray(fm) && fm.every((x) => typeof x === "string" && x.trim() !== "")) fallbackModels = (fm as Array<string>).map((x) => x.trim())
    else issue(f.fallbackModels, `must be a list of other models' names (displayName), found ${JSON.stringify(fm)}`)
  }

  let caFile: string | undefined
  const ca = expanded[f.caFile]
  if (ca !== undefined && ca !== null) {
    if (typeof ca === "string" && ca.trim() !== "") caFile = ca.trim()
    else issue(f.caFile, `must be the path of a PEM file with the CA's certificate, found ${JSON.stringify(ca)}`)
  }

  let reasoningEffort: ReasoningEffort | undefined
  const re = expanded[f.reasoningEffort]
  if (re !== undefined && re !== null) {
    reasoningEffort = reasoningEffortOf(re)
    if (reasoningEffort === undefined) issue(f.reasoningEffort, `must be one of ${REASONING_EFFORTS.join(", ")}, found ${JSON.stringify(re)}`)
  }

  // droid's noImageSupport (config.json: no_image_support), and the older supportsImages: false.
  const noImagesField = shape === SnakeShape ? "no_image_support" : "noImageSupport"
  const supportsField = shape === SnakeShape ? "supports_images" : "supportsImages"
  const noImageSupport = expanded[noImagesField] === true
    ? `${noImagesField}: true`
    : expanded[supportsField] === false
    ? `${supportsField}: false`
    : undefined

  let extraArgs: Record<string, unknown> = {}
  let extraHeaders: Record<string, string> = {}
  if (shape.extras) {
    const ea = expanded["extraArgs"]
    if (ea !== undefined && ea !== null) {
      if (isRecord(ea)) extraArgs = ea
      else issue("extraArgs", `must be an object of request body fields, found ${typeName(ea)}`)
    }
    const eh = expanded["extraHeaders"]
    if (eh !== undefined && eh !== null) {
      if (!isRecord(eh)) issue("extraHeaders", `must be an object of header names to strings, found ${typeName(eh)}`)
      else {
        for (const [k, v] of Object.entries(eh)) {
          if (typeof v !== "string") issue(`extraHeaders.${k}`, `must be a string, found ${typeName(v)}`)
        }
        extraHeaders = eh as Record<string, string>
      }
    }
  }

  if (
    issues.length > 0 || displayName === undefined || model === undefined || baseUrl === undefined ||
    endpoint === undefined ||
    apiKey === undefined || provider === undefined || maxOutputTokens === undefined
  ) {
    return { issues, secrets }
  }
  return {
    issues,
    secrets,
    entry: {
      displayName,
      model,
      baseUrl,
      endpoint,
      apiKey: Redacted.make(apiKey),
      provider,
      maxOutputTokens,
      extraArgs,
      extraHeaders,
      cacheTtl,
      ...(timeout !== undefined ? { timeout } : {}),
      ...(contextWindow !== undefined ? { contextWindow } : {}),
      ...(fallbackModels !== undefined ? { fallbackModels } : {}),
      ...(caFile !== undefined ? { caFile } : {}),
      ...(reasoningEffort !== undefined ? { reasoningEffort } : {}),
      ...(noImageSupport !== undefined ? { noImageSupport } : {}),
      source: { file, path, literalKey: typeof rawKey === "string" && !String(raw[f.apiKey]).includes("${") }
    }
  }
}

/** Validates one `prices` entry; `issues` name the field and the fix. */
export const validatePrice = (
  raw: unknown,
  file: string,
  key: string
): { readonly price?: Price; readonly issues: ReadonlyArray<ConfigIssue> } => {
  const path = `prices[${JSON.stringify(key)}]`
  if (!isRecord(raw)) {
    return { issues: [{ file, path, message: `must be an object like {"input": 3, "output": 15} (USD per million tokens)` }] }
  }
  const issues: Array<ConfigIssue> = []
  const out: Record<string, number> = {}
  for (const field of ["input", "output", "cacheRead", "cacheWrite", "cacheWrite1h"]) {
    const v = raw[field]
    if (v === undefined || v === null) {
      if (field === "input" || field === "output") issues.push({ file, path: `${path}.${field}`, message: "missing required field (USD per million tokens)" })
      continue
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      issues.push({ file, path: `${path}.${field}`, message: `must be a number of dollars per million tokens, found ${JSON.stringify(v)}` })
      continue
    }
    out[field] = v
  }
  return issues.length > 0 ? { issues } : { price: out as unknown as Price, issues }
}
