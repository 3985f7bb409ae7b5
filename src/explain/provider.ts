// A model server's failure in words: what happened, in the user's terms, and the fix (which field of which file,
// which server to start, which URL to try). Vendor knowledge comes from providers/local.ts.
import { Duration } from "effect"
import type { RetryInfo } from "../providers/conversation.ts"
import type { ProviderError } from "../providers/errors.ts"
import { localServerOf, startHint } from "../providers/local.ts"
import { versionPathHint } from "../providers/registry.ts"
import { contextFix } from "./local.ts"
import type { Explanation } from "./report.ts"

const RAISE_LIMIT = (where: string, model: string) =>
  `To wait longer: --timeout SECONDS, BYOK_TIMEOUT=SECONDS, or "timeout": SECONDS in the entry of ${model} ` +
  `(${where}, or byok's own ~/.config/byok/config.json).`

const fmt = (n: number) => n.toLocaleString("en-US")

const tokens = (n: number) => `${n.toLocaleString("en-US")} token${n === 1 ? "" : "s"}`

/**
 * `answerShown`: the answer's text was on screen as it came (exec, the chat), so a message may speak of "the
 * answer above"; the doctor shows none.
 */
export const explainProviderError = (error: ProviderError, answerShown = true): Explanation => {
  const entry = error.entry
  const { host, hostname, isLocal } = entry.endpoint
  const where = entry.source.file
  const model = `"${entry.displayName}"`
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
        : `${host} does not allow this key to use ${model} (model "${entry.model}")`
      const fix = reason.kind === "invalid-key"
        ? `Check the api_key of ${model} in ${where}; if it is "\${VAR}", check that variable's value.`
        : reason.kind === "billing"
        ? `Add credit or set up billing in the provider's console, then try again.`
        : `Check that the key has access to model "${entry.model}" (project, region or organisation limits).`
      return { headline, lines: [fix, ...facts] }
    }
    case "RateLimitError":
      return reason.quota
        ? {
          headline: `${host}: quota or spend limit exhausted for ${model}`,
          lines: ["Waiting will not help: add credit or raise the limit in the provider's console.", ...facts]
        }
        : {
          headline: `${host} is rate limiting requests for ${model}`,
          lines: [
            reason.retryAfter !== undefined
              ? `Try again in ${Math.ceil(reason.retryAfter)} s.`
              : "Wait a little and try again, or use a key with a higher rate limit.",
            ...facts
          ]
        }
    case "ConnectionError": {
      /** Some of the answer was shown before the connection failed. */
      /** Some of the answer came before the connection failed; `partial`: and it is on screen above. */
      const came = reason.deltas !== undefined && reason.deltas > 0
      const partial = answerShown && came
      if (reason.proxy !== undefined) {
        return {
          headline: `Cannot connect to the proxy ${reason.proxy} (from ${reason.proxyVariable}): ` +
            (reason.kind === "refused" ? "connection refused" : reason.kind === "dns" ? "its name does not resolve" : reason.detail),
          lines: [
            `Check ${reason.proxyVariable}, or add ${hostname} to NO_PROXY to reach ${host} directly.`
          ]
        }
      }
      switch (reason.kind) {
        case "offline":
          return {
            headline: `Offline mode is on: byok does not contact ${host}`,
            lines: [
              `${model} is served from ${host}, which is not a loopback or private address. Pick a local model (byok models), ` +
              `add the host to "offlineHosts" in ~/.factory/settings.json if it is on your own network, or run without offline mode.`,
              reason.detail
            ]
          }
        case "refused":
          return {
            headline: `Cannot connect to ${host}: connection refused`,
            lines: [
              isLocal
                ? `Nothing is listening there. ${startHint(entry)}, or fix base_url of ${model} in ${where}.`
                : `Check base_url of ${model} in ${where} (host and port), and that the server is up.`
            ]
          }
        case "dns":
          return {
            headline: `Cannot resolve host "${hostname}"`,
            lines: [`Check the spelling of base_url of ${model} in ${where}, and the network or DNS settings.`]
          }
        case "tls":
          return {
            headline: `TLS handshake with ${host} failed`,
            lines: [
              entry.endpoint.url.protocol === "https:" && isLocal && entry.caFile === undefined
                ? `Local servers usually speak plain HTTP: try http:// in base_url of ${model} in ${where}.`
                : `Check that base_url of ${model} in ${where} is right and that the server's certificate is valid.`,
              ...(/certificate|self[- ]signed|issuer|verify|UNABLE_TO/i.test(reason.detail)
                ? [
                  "If its certificate comes from a private CA (or a proxy that inspects TLS), point byok at the CA: " +
                  `NODE_EXTRA_CA_CERTS=/path/ca.pem (or SSL_CERT_FILE), or "caFile": "/path/ca.pem" in the entry of ${model}.`
                ]
                : []),
              reason.detail
            ]
          }
        case "timeout":
          return {
            headline: reason.waitedSeconds !== undefined
              ? `No response from ${host} in ${reason.waitedSeconds} s`
              : `${host} did not answer in time`,
            lines: [
              isLocal
                ? "The server may still be loading the model or reading a long prompt."
                : "The server may be overloaded; try again.",
              RAISE_LIMIT(where, model),
              ...facts
            ]
          }
        case "stalled":
          return {
            headline: `The stream from ${host} stalled` +
              (came ? ` after about ${tokens(reason.deltas!)}` : "") +
              `: nothing for ${reason.waitedSeconds ?? "too many"} s` +
              (partial ? "; the answer above is incomplete" : came ? "" : " before any of the answer came"),
            lines: [RAISE_LIMIT(where, model), ...facts]
          }
        case "stream-cut":
          return {
            headline: `The connection to ${host} was cut before the answer was complete` +
              (came ? ` (after about ${tokens(reason.deltas!)})` : ""),
            lines: [
              partial ? "The partial answer above is incomplete. Try again." : came ? "Try again." : "No answer came. Try again.",
              reason.detail,
              ...facts
            ]
          }
        default:
          return {
            headline: `Connection to ${host} failed`,
            lines: [reason.detail, `Check base_url of ${model} in ${where}.`]
          }
      }
    }
    case "ModelNotFound": {
      const lines: Array<string> = []
      const versioned = versionPathHint(entry)
      if (versioned !== undefined) lines.push(`base_url has no /v1: try "${versioned}" for ${model} in ${where}.`)
      const kind = error.served?.kind ?? localServerOf(entry)?.kind
      if (kind === "ollama") {
        lines.push(`Ollama has no model "${entry.model}": pull it first with: ollama pull ${entry.model}`)
        const pulled = error.served?.models ?? []
        if (pulled.length > 0) lines.push(`Pulled models: ${pulled.join(", ")} (set one as "model" in ${where}).`)
      } else if (error.served !== undefined && error.served.models.length > 0) {
        lines.push(`The server has: ${error.served.models.join(", ")}.`)
      }
      lines.push(`Check that model "${entry.model}" exists on ${host} (the "model" field in ${where}).`)
      return {
        headline: `${host} does not know model "${entry.model}" or the endpoint (404)`,
        lines: [...lines, ...facts]
      }
    }
    case "ContextLengthExceeded": {
      const prompt = reason.promptTokens
      const context = reason.contextTokens ?? error.served?.context
      const output = reason.outputTokens
      // The prompt fits; the room asked for the answer is what does not: the fix is a lower output cap.
      if (prompt !== undefined && output !== undefined && context !== undefined && prompt < context) {
        const room = context - prompt
        const field = entry.source.path.startsWith("customModels") ? "maxOutputTokens" : "max_tokens"
        return {
          headline: `The prompt (${fmt(prompt)} tokens) plus the room asked for the answer (${fmt(output)} tokens) ` +
            `exceed the context window of ${model} (${fmt(context)} tokens): the output cap is too big, not the prompt`,
          lines: [
            `Lower the output cap to at most ${fmt(room)}: --max-tokens N (exec), /max-tokens N (the chat), or ` +
            `${field} of ${model} in ${where}.`,
            ...facts
          ]
        }
      }
      const numbers = prompt !== undefined && context !== undefined
        ? ` (prompt ${prompt.toLocaleString("en-US")} tokens, context ${context.toLocaleString("en-US")})`
        : context !== undefined
        ? ` (context ${context.toLocaleString("en-US")} tokens)`
        : prompt !== undefined
        ? ` (prompt ${prompt.toLocaleString("en-US")} tokens)`
        : ""
      return {
        headline: `The prompt is longer than the context window of ${model}${numbers}`,
        lines: [
          "Compact the conversation: /compact in the chat (autoCompact, on unless settings.json turns it off, does it before a request that would not fit), or start a new one.",
          contextFix(entry, error.served?.kind, prompt !== undefined ? prompt + entry.maxOutputTokens : undefined),
          ...facts
        ]
      }
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
      return { headline: `${host} rejected the request for ${model}`, lines: [...lines, ...facts] }
    }
    case "ProviderInternalError":
      return {
        headline: reason.overloaded ? `${host} is overloaded` : `${host} had an internal error`,
        lines: ["This is on the provider's side; try again in a moment.", `The server said: ${reason.detail}`, ...facts]
      }
    case "RedirectRefused":
      return {
        headline: `${host} redirected the request for ${model} (HTTP ${reason.status}) to ${reason.location}`,
        lines: [
          "byok follows no redirect that would carry the key to another address or change the request.",
          reason.suggestedBaseUrl !== undefined
            ? `If that is the right server, set base_url of ${model} in ${where} to "${reason.suggestedBaseUrl}".`
            : `If that is the right server, put its address in base_url of ${model} in ${where}.`,
          ...facts
        ]
      }
    case "InvalidResponseError":
      return {
        headline: `${host} sent a response byok cannot read`,
        lines: [reason.detail, `Check that base_url of ${model} in ${where} points at a "${entry.provider}" API.`, ...facts]
      }
  }
}

/** The line shown before a retry: what failed, and when byok tries again. */
export const explainRetry = (info: RetryInfo): string => {
  const host = info.error.entry.endpoint.host
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
