// Config and usage errors in words: the file, the line and column or the entry and field, and the fix.
import type { ConfigError, UsageError } from "../config/errors.ts"
import type { Explanation } from "./report.ts"

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

export const explainConfigError = (error: ConfigError | UsageError): Explanation => {
  switch (error._tag) {
    case "ConfigNotFound":
      return { headline: `Cannot read config file ${error.path}: ${error.detail}`, lines: [] }
    case "ConfigParseError": {
      const gutter = String(error.line).length
      return {
        headline: `${error.path}:${error.line}:${error.column}: invalid JSON: ${error.detail}`,
        lines: [
          `${error.line} | ${error.excerpt}`,
          `${" ".repeat(gutter)} | ${" ".repeat(Math.max(0, error.caret))}^`
        ]
      }
    }
    case "ConfigInvalid":
      return {
        headline: error.issues.length === 1 ? "Invalid model entry" : `Invalid model entry (${error.issues.length} problems)`,
        lines: error.issues.map((i) => `${i.file}: ${i.path}${i.entry ? ` ("${i.entry}")` : ""}: ${i.message}`)
      }
    case "NoModelsConfigured":
      return {
        headline: "No models configured",
        lines: [
          `byok reads droid's files: ${error.searched.join(", ")}.`,
          "No local server was found either (Ollama on 11434, llama.cpp on 8080, LM Studio on 1234, vLLM on 8000): " +
          "start one and byok uses its models, or",
          "Add a model, for example to ~/.factory/config.json:",
          ...EXAMPLE_ENTRY.map((l) => `  ${l}`)
        ]
      }
    case "UnknownModel":
      if (error.untrustedProject !== undefined) {
        return {
          headline: `"${error.query}" is defined by the project ${error.untrustedProject}, which you have not trusted`,
          lines: [
            "byok reads a project's settings only once you trust it: they can point a model at any server.",
            `To trust it: byok trust ${error.untrustedProject}`
          ]
        }
      }
      return {
        headline: `Unknown model "${error.query}"` + (error.suggestion ? `: did you mean "${error.suggestion}"?` : ""),
        lines: error.available.length > 0
          ? ["Configured models (see `byok models`):", ...error.available.map((n) => `  ${n}`)]
          : ["No models are configured; see `byok models`."]
      }
    case "AmbiguousModel":
      return {
        headline: `"${error.query}" is the model id of ${error.matches.length} entries: pick one by its display name`,
        lines: error.matches.map((n) => `byok -m "${n}"`)
      }
    case "UsageError":
      return { headline: error.detail, lines: error.hint ? [error.hint] : [] }
  }
}
