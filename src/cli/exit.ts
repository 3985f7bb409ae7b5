// Every failure → one screen of text for stderr and an exit code. This is the troubleshooting page of byok:
// each message says what happened in the user's terms and names the fix (which file, which field, which command).
// Exit codes: 0 ok, 1 anything else, 2 usage or config, 3 authentication, 4 rate limit or quota,
// 5 connection or timeout, 130 interrupted.
import { Cause, Data, Duration } from "effect"
import * as CliError from "effect/cli/CliError"
import type { ConfigError, UsageError } from "../config/errors.ts"
import { PROVIDERS } from "../config/schema.ts"
import type { StoreError } from "../lib/sqlite.ts"
import type { RetryInfo } from "../providers/conversation.ts"
import type { ProviderError } from "../providers/errors.ts"

export const ExitCode = {
  ok: 0,
  other: 1,
  usage: 2,
  auth: 3,
  rateLimit: 4,
  connection: 5,
  interrupted: 130
} as const

/** The exit codes as `--help` shows them (effect/cli indents only a description's first line). */
export const EXIT_CODES_HELP = [
  "  Exit codes: 0 ok, 1 other error, 2 usage or config error, 3 authentication,",
  "  4 rate limit or quota, 5 connection or timeout, 130 interrupted."
].join("\n")

/** Ends the program with an exit code and nothing more to say (the command already said it). */
export class QuietExit extends Data.TaggedError("QuietExit")<{ readonly code: number }> {}

export interface Report {
  readonly code: number
  /** What went wrong, one line. */
  readonly headline: string
  /** The fix and supporting detail, one item per line. */
  readonly lines: ReadonlyArray<string>
}

const hostOf = (baseUrl: string) => {
  const url = URL.parse(baseUrl)
  return url ? url.host : baseUrl
}

/** Local servers by their default port: what to start when the connection is refused. */
const LOCAL_SERVERS: Record<string, string> = {
  "11434": "Ollama: start it with `ollama serve` (and `ollama pull <model>` once)",
  "8080": "llama.cpp: start it with `llama-server -m model.gguf --port 8080`",
  "8000": "vLLM: start it with `vllm serve <model>`",
  "1234": "LM Studio: start its local server (Developer tab → Start Server)"
}

const isLocal = (baseUrl: string) => {
  const host = URL.parse(baseUrl)?.hostname ?? ""
  return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.") || host === "0.0.0.0"
}

export const describeProviderError = (error: ProviderError): Report => {
  const host = hostOf(error.baseUrl)
  const where = `${error.configFile}`
  const model = `"${error.displayName}"`
  const facts: Array<string> = []
  if (error.status !== undefined) facts.push(`HTTP status: ${error.status}`)
  if (error.requestId !== undefined) facts.push(`request id: ${error.requestId}`)
  const reason = error.reason
  switch (reason._tag) {
    case "AuthenticationError": {
      const headline = reason.kind === "invalid-key"
        ? `${host} rejected the API key of ${model}`
        : reason.kind === "billing"
        ? `${host} refused ${model}: the account has no credit or billing is not set up`
        : `${host} does not allow this key to use ${model} (model "${error.model}")`
      const fix = reason.kind === "invalid-key"
        ? `Check the api_key of ${model} in ${where}; if it is "\${VAR}", check that variable's value.`
        : reason.kind === "billing"
        ? `Add credit or set up billing in the provider's console, then try again.`
        : `Check that the key has access to model "${error.model}" (project, region or organisation limits).`
      return { code: ExitCode.auth, headline, lines: [fix, ...facts] }
    }
    case "RateLimitError":
      return reason.quota
        ? {
          code: ExitCode.rateLimit,
          headline: `${host}: quota or spend limit exhausted for ${model}`,
          lines: ["Waiting will not help: add credit or raise the limit in the provider's console.", ...facts]
        }
        : {
          code: ExitCode.rateLimit,
          headline: `${host} is rate limiting requests for ${model}`,
          lines: [
            reason.retryAfter !== undefined
              ? `Try again in ${Math.ceil(reason.retryAfter)} s.`
              : "Wait a little and try again, or use a key with a higher rate limit.",
            ...facts
          ]
        }
    case "ConnectionError": {
      const port = URL.parse(error.baseUrl)?.port ?? ""
      switch (reason.kind) {
        case "refused":
          return {
            code: ExitCode.connection,
            headline: `Cannot connect to ${host}: connection refused`,
            lines: [
              isLocal(error.baseUrl)
                ? `Nothing is listening there. ${LOCAL_SERVERS[port] ?? "Start the model server"}, or fix base_url of ${model} in ${where}.`
                : `Check base_url of ${model} in ${where} (host and port), and that the server is up.`
            ]
          }
        case "dns":
          return {
            code: ExitCode.connection,
            headline: `Cannot resolve host "${URL.parse(error.baseUrl)?.hostname ?? host}"`,
            lines: [`Check the spelling of base_url of ${model} in ${where}, and the network or DNS settings.`]
          }
        case "tls":
          return {
            code: ExitCode.connection,
            headline: `TLS handshake with ${host} failed`,
            lines: [
              error.baseUrl.startsWith("https:") && isLocal(error.baseUrl)
                ? `Local servers usually speak plain HTTP: try http:// in base_url of ${model} in ${where}.`
                : `Check that base_url of ${model} in ${where} is right and that the server's certificate is valid.`,
              reason.detail
            ]
          }
        case "timeout":
          return {
            code: ExitCode.connection,
            headline: `${host} did not answer in time`,
            lines: [
              `${reason.detail}. The server may be overloaded or still loading the model; try again.`,
              ...facts
            ]
          }
        case "stream-cut":
          return {
            code: ExitCode.connection,
            headline: `The connection to ${host} was cut before the answer was complete`,
            lines: ["The partial answer above is incomplete. Try again.", reason.detail, ...facts]
          }
        default:
          return {
            code: ExitCode.connection,
            headline: `Connection to ${host} failed`,
            lines: [reason.detail, `Check base_url of ${model} in ${where}.`]
          }
      }
    }
    case "ModelNotFound": {
      const path = URL.parse(error.baseUrl)?.pathname ?? ""
      const lines: Array<string> = []
      if (error.provider !== "anthropic" && !/\/v\d+(beta)?(\/|$)/.test(path) && !/openai/.test(path)) {
        lines.push(`base_url has no /v1: try "${error.baseUrl}/v1" for ${model} in ${where}.`)
      }
      if (URL.parse(error.baseUrl)?.port === "11434") lines.push(`For Ollama, pull the model first: ollama pull ${error.model}`)
      lines.push(`Check that model "${error.model}" exists on ${host} (the "model" field in ${where}).`)
      return {
        code: ExitCode.other,
        headline: `${host} does not know model "${error.model}" or the endpoint (404)`,
        lines: [...lines, ...facts]
      }
    }
    case "ContextLengthExceeded":
      return {
        code: ExitCode.other,
        headline: `The prompt is longer than the context window of ${model}`,
        lines: ["Shorten the prompt or the input piped on stdin, or use a model with a larger context window.", ...facts]
      }
    case "InvalidRequestError": {
      const lines = [`The server said: ${reason.detail}`]
      if (reason.param === "max_tokens" || reason.param === "max_completion_tokens") {
        lines.push(`The output-cap field was refused; set max_tokens of ${model} in ${where}, or pass it in extraArgs.`)
      } else if (reason.param !== undefined) {
        lines.push(`The field "${reason.param}" was refused: check extraArgs of ${model} in ${where}.`)
      } else {
        lines.push(`Check the entry of ${model} in ${where} (model, extraArgs) and the options passed to byok.`)
      }
      return { code: ExitCode.other, headline: `${host} rejected the request for ${model}`, lines: [...lines, ...facts] }
    }
    case "ProviderInternalError":
      return {
        code: ExitCode.other,
        headline: reason.overloaded ? `${host} is overloaded` : `${host} had an internal error`,
        lines: [
          "This is on the provider's side; try again in a moment.",
          `The server said: ${reason.detail}`,
          ...facts
        ]
      }
    case "InvalidResponseError":
      return {
        code: ExitCode.other,
        headline: `${host} sent a response byok cannot read`,
        lines: [
          reason.detail,
          `Check that base_url of ${model} in ${where} points at a "${error.provider}" API.`,
          ...facts
        ]
      }
    case "InvalidProvider":
      return {
        code: ExitCode.usage,
        headline: `Invalid provider "${reason.value}" for ${model}`,
        lines: [`provider must be one of ${PROVIDERS.map((p) => `"${p}"`).join(", ")}; fix it in ${where}.`]
      }
  }
}

const EXAMPLE_ENTRY = [
  `{`,
  `  "custom_models": [{`,
  `    "model_display_name": "Llama 3.2 [Ollama]",`,
  `    "model": "llama3.2",`,
  `    "base_url": "http://localhost:11434/v1",`,
  `    "api_key": "ollama",`,
  `    "provider": "generic-chat-completion-api",`,
  `    "max_tokens": 8192`,
  `  }]`,
  `}`
]

export const describeConfigError = (error: ConfigError | UsageError): Report => {
  switch (error._tag) {
    case "ConfigNotFound":
      return { code: ExitCode.usage, headline: `Cannot read config file ${error.path}: ${error.detail}`, lines: [] }
    case "ConfigParseError": {
      const gutter = String(error.line).length
      return {
        code: ExitCode.usage,
        headline: `${error.path}:${error.line}:${error.column}: invalid JSON: ${error.detail}`,
        lines: [
          `${error.line} | ${error.lineText}`,
          `${" ".repeat(gutter)} | ${" ".repeat(Math.max(0, error.column - 1))}^`
        ]
      }
    }
    case "ConfigInvalid":
      return {
        code: ExitCode.usage,
        headline: error.issues.length === 1 ? "Invalid model entry" : `Invalid model entry (${error.issues.length} problems)`,
        lines: error.issues.map((i) => `${i.file}: ${i.path}${i.entry ? ` ("${i.entry}")` : ""}: ${i.message}`)
      }
    case "NoModelsConfigured":
      return {
        code: ExitCode.usage,
        headline: "No models configured",
        lines: [
          `byok reads droid's files: ${error.searched.join(", ")}.`,
          "Add a model, for example to ~/.factory/config.json:",
          ...EXAMPLE_ENTRY.map((l) => `  ${l}`)
        ]
      }
    case "UnknownModel":
      return {
        code: ExitCode.usage,
        headline: `Unknown model "${error.query}"` + (error.suggestion ? `: did you mean "${error.suggestion}"?` : ""),
        lines: error.available.length > 0
          ? ["Configured models (see `byok models`):", ...error.available.map((n) => `  ${n}`)]
          : ["No models are configured; see `byok models`."]
      }
    case "UsageError":
      return { code: ExitCode.usage, headline: error.detail, lines: error.hint ? [error.hint] : [] }
  }
}

/**
 * Writing to stdout failed: the reader went away (`byok exec … | head`). Not an error of byok's: it stops quietly
 * with status 0, as other well-behaved filters do.
 */
export const isStdoutClosed = (error: unknown): boolean => {
  const e = error as { _tag?: string; reason?: { module?: string; method?: string } }
  return e?._tag === "PlatformError" && e.reason?.module === "Stdio" && e.reason?.method === "stdout"
}

const isTagged = (u: unknown): u is { readonly _tag: string } =>
  typeof u === "object" && u !== null && typeof (u as { _tag?: unknown })._tag === "string"

const CONFIG_TAGS = new Set([
  "ConfigNotFound",
  "ConfigParseError",
  "ConfigInvalid",
  "NoModelsConfigured",
  "UnknownModel",
  "UsageError"
])

/**
 * The report for a whole failure. `silent` means there is nothing more to print (effect/cli already printed its
 * parse error; the command already said it; the reader of stdout went away) and only the exit code is left to set.
 */
export const describeCause = (cause: Cause.Cause<unknown>, debug = false): Report & { readonly silent: boolean } => {
  if (Cause.hasInterruptsOnly(cause)) return { code: ExitCode.interrupted, headline: "", lines: [], silent: true }
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    const error = failure.error
    if (CliError.isCliError(error)) return { code: ExitCode.usage, headline: "", lines: [], silent: true }
    if (isStdoutClosed(error)) return { code: ExitCode.ok, headline: "", lines: [], silent: true }
    if (isTagged(error) && error._tag === "ProviderError") {
      return { ...describeProviderError(error as ProviderError), silent: false }
    }
    if (isTagged(error) && CONFIG_TAGS.has(error._tag)) {
      return { ...describeConfigError(error as ConfigError | UsageError), silent: false }
    }
    if (error instanceof QuietExit) return { code: error.code, headline: "", lines: [], silent: true }
  }
  // A defect, or an error byok does not know: a bug. No stack trace unless asked for.
  const squashed = Cause.squash(cause)
  const message = squashed instanceof Error ? squashed.message : String(squashed)
  return {
    code: ExitCode.other,
    headline: `Unexpected error: ${message}`,
    lines: debug && squashed instanceof Error && squashed.stack
      ? [squashed.stack]
      : ["This is a bug in byok. Run again with BYOK_DEBUG=1 for details, and please report it."],
    silent: false
  }
}

/** Renders a report for stderr; `color` adds a red "error:" prefix. */
export const formatReport = (report: Report, color: boolean): string => {
  const prefix = color ? "\x1b[31merror:\x1b[0m " : "error: "
  return [prefix + report.headline, ...report.lines.map((l) => `  ${l}`)].join("\n") + "\n"
}

/**
 * One line for a store (the cost ledger, saved sessions) that could not be used: what it cost the user
 * (`consequence`, e.g. "this request was not recorded in the cost ledger") and how to fix it.
 */
export const describeStoreError = (error: StoreError, consequence: string): string => {
  const fix = error.kind === "locked"
    ? "another program holds it locked; close it (e.g. an open sqlite3 shell)"
    : error.kind === "readonly"
    ? "it cannot be written there; fix the permissions, or set BYOK_HOME to a writable directory"
    : error.kind === "corrupt"
    ? `it is damaged; move ${error.path} aside and byok starts a new one`
    : error.kind === "newer"
    ? "it was written by a newer byok; update byok"
    : "check that its directory can be written, or set BYOK_HOME to another directory"
  return `${consequence} ${error.path} (${error.detail}): ${fix}`
}

/** The line shown before a retry: what failed, and when byok tries again. */
export const describeRetry = (info: RetryInfo): string => {
  const host = hostOf(info.error.baseUrl)
  const reason = info.error.reason
  const what = reason._tag === "RateLimitError"
    ? `${host} is rate limiting`
    : reason._tag === "ProviderInternalError"
    ? reason.overloaded ? `${host} is overloaded` : `${host} had an internal error`
    : reason._tag === "ConnectionError"
    ? `the connection to ${host} failed (${reason.kind})`
    : `${host}: ${reason.message}`
  return `${what}; trying again in ${Duration.format(info.delay)} (retry ${info.attempt} of ${info.maxRetries})`
}
