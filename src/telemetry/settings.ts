// Where byok's OpenTelemetry goes: the standard OTEL_* variables over settings.json's `telemetry`, read into one
// value (pure: no network, no effect). Telemetry is off unless an endpoint is set; what cannot be used is said as
// a problem, and the signal it concerns stays off rather than going somewhere the user did not mean.
import { showProxy } from "../lib/network.ts"

export type Signal = "traces" | "metrics" | "logs"
export type Protocol = "http/protobuf" | "http/json"

export interface TelemetrySettings {
  /** The full URL each signal is posted to (…/v1/traces), for the signals that are on. */
  readonly endpoints: Readonly<Partial<Record<Signal, string>>>
  readonly protocol: Protocol
  /** Sent with every export (a collector's or vendor's credentials): never printed, never exported. */
  readonly headers: Readonly<Record<string, string>>
  readonly serviceName: string
  readonly resourceAttributes: Readonly<Record<string, string>>
  /** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true: prompts, answers and tool text go into spans. */
  readonly captureContent: boolean
}

export interface ReadTelemetry {
  /** Undefined when telemetry is off. */
  readonly settings: TelemetrySettings | undefined
  /** What was set but could not be used, each naming the variable or field and the fix. */
  readonly problems: ReadonlyArray<string>
}

const SIGNALS: ReadonlyArray<Signal> = ["traces", "metrics", "logs"]
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
const isTrue = (v: string | undefined) => v !== undefined && v.trim().toLowerCase() === "true"

/** "k=v,k2=v2" as the OTEL variables write lists; values are percent-decoded. Undefined when malformed. */
export const parseList = (text: string): Record<string, string> | undefined => {
  const out: Record<string, string> = {}
  for (const item of text.split(",")) {
    if (item.trim() === "") continue
    const at = item.indexOf("=")
    if (at <= 0) return undefined
    const key = item.slice(0, at).trim()
    try {
      out[key] = decodeURIComponent(item.slice(at + 1).trim())
    } catch {
      return undefined
    }
  }
  return out
}

/** An http(s) URL, or undefined. */
const urlOf = (text: string): URL | undefined => {
  try {
    const url = new URL(text.trim())
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined
  } catch {
    return undefined
  }
}

/** The base endpoint with the signal's path joined, as the OTLP exporter specification says. */
const joined = (base: URL, signal: Signal) => {
  const url = new URL(base.href)
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/${signal}`
  return url.href
}

const stringRecord = (value: unknown): Record<string, string> | undefined =>
  isRecord(value) && Object.values(value).every((v) => typeof v === "string") ? (value as Record<string, string>) : undefined

/**
 * The telemetry settings from the environment and settings.json's `telemetry` (already `${VAR}`-expanded), the
 * variables winning. `file` names where the settings came from, for problems.
 */
export const readTelemetry = (env: Readonly<Record<string, string | undefined>>, fromFile: unknown, file = "settings.json"): ReadTelemetry => {
  const problems: Array<string> = []
  const set = (name: string) => {
    const v = env[name]
    return v !== undefined && v.trim() !== "" ? v.trim() : undefined
  }
  const own = isRecord(fromFile) ? fromFile : {}
  const ownString = (field: string) => {
    const v = own[field]
    if (v === undefined || v === null) return undefined
    if (typeof v === "string" && v.trim() !== "") return v.trim()
    problems.push(`telemetry.${field} in ${file} must be a non-empty string (ignored)`)
    return undefined
  }
  if (isTrue(env["OTEL_SDK_DISABLED"])) return { settings: undefined, problems }

  const endpoints: Partial<Record<Signal, string>> = {}
  const baseVar = set("OTEL_EXPORTER_OTLP_ENDPOINT")
  const baseField = ownString("endpoint")
  for (const signal of SIGNALS) {
    const upper = signal.toUpperCase()
    const exporter = set(`OTEL_${upper}_EXPORTER`)
    if (exporter !== undefined && exporter.split(",").map((e) => e.trim().toLowerCase()).includes("none")) continue
    const specific = set(`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`)
    const fieldSpecific = ownString(`${signal}Endpoint`)
    // A signal's own endpoint is used as written; the base one gets /v1/<signal> joined.
    const [raw, name, own] = specific !== undefined
      ? [specific, `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`, true]
      : baseVar !== undefined
      ? [baseVar, "OTEL_EXPORTER_OTLP_ENDPOINT", false]
      : fieldSpecific !== undefined
      ? [fieldSpecific, `telemetry.${signal}Endpoint in ${file}`, true]
      : baseField !== undefined
      ? [baseField, `telemetry.endpoint in ${file}`, false]
      : [undefined, "", false]
    if (raw === undefined) continue
    const url = urlOf(raw)
    if (url === undefined) {
      // (a password in it is not repeated)
      problems.push(`${name} must be an http:// or https:// URL such as http://127.0.0.1:4318, found "${showProxy(raw)}" (${signal} not exported)`)
      continue
    }
    endpoints[signal] = own ? url.href : joined(url, signal)
  }
  if (Object.keys(endpoints).length === 0) return { settings: undefined, problems }

  const protocolRaw = set("OTEL_EXPORTER_OTLP_PROTOCOL") ?? ownString("protocol") ?? "http/protobuf"
  if (protocolRaw !== "http/protobuf" && protocolRaw !== "http/json") {
    problems.push(
      `the OTLP protocol "${protocolRaw}" is not one byok sends: it exports over HTTP, as http/protobuf (the default) or http/json; ` +
        `set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and point the endpoint at the collector's HTTP port (4318); nothing is exported`
    )
    return { settings: undefined, problems }
  }

  const headers: Record<string, string> = {}
  const ownHeaders = own["headers"]
  if (ownHeaders !== undefined && ownHeaders !== null) {
    const read = stringRecord(ownHeaders)
    if (read === undefined) problems.push(`telemetry.headers in ${file} must be an object of strings (ignored)`)
    else Object.assign(headers, read)
  }
  const headerVar = set("OTEL_EXPORTER_OTLP_HEADERS")
  if (headerVar !== undefined) {
    const read = parseList(headerVar)
    // The value is a secret: the problem never quotes it.
    if (read === undefined) problems.push("OTEL_EXPORTER_OTLP_HEADERS must be a list of name=value pairs separated by commas (ignored)")
    else Object.assign(headers, read)
  }

  const resourceAttributes: Record<string, string> = {}
  const ownAttributes = own["resourceAttributes"]
  if (ownAttributes !== undefined && ownAttributes !== null) {
    const read = stringRecord(ownAttributes)
    if (read === undefined) problems.push(`telemetry.resourceAttributes in ${file} must be an object of strings (ignored)`)
    else Object.assign(resourceAttributes, read)
  }
  const attributeVar = set("OTEL_RESOURCE_ATTRIBUTES")
  if (attributeVar !== undefined) {
    const read = parseList(attributeVar)
    if (read === undefined) problems.push(`OTEL_RESOURCE_ATTRIBUTES must be a list of name=value pairs separated by commas, found "${attributeVar}" (ignored)`)
    else Object.assign(resourceAttributes, read)
  }
  const serviceName = set("OTEL_SERVICE_NAME") ?? resourceAttributes["service.name"] ?? ownString("serviceName") ?? "byok"
  delete resourceAttributes["service.name"]

  const captureVar = env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"]
  const captureField = own["captureContent"]
  if (captureField !== undefined && captureField !== null && typeof captureField !== "boolean") {
    problems.push(`telemetry.captureContent in ${file} must be true or false (ignored)`)
  }
  const captureContent = captureVar !== undefined && captureVar.trim() !== "" ? isTrue(captureVar) : captureField === true

  return { settings: { endpoints, protocol: protocolRaw, headers, serviceName, resourceAttributes, captureContent }, problems }
}

const ENDPOINT_VARIABLES = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
  "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
] as const

/** Every variable `readTelemetry` reads. */
export const OTEL_VARIABLES = [
  ...ENDPOINT_VARIABLES,
  "OTEL_SDK_DISABLED",
  "OTEL_TRACES_EXPORTER",
  "OTEL_METRICS_EXPORTER",
  "OTEL_LOGS_EXPORTER",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
] as const

/** Whether anything could turn telemetry on: a variable or the settings field (read without parsing them). */
export const mayBeOn = (env: Readonly<Record<string, string | undefined>>, fromFile: unknown): boolean =>
  fromFile !== undefined || ENDPOINT_VARIABLES.some((name) => (env[name] ?? "").trim() !== "")
