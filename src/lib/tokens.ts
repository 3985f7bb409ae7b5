// Token counts byok must estimate because no server said them: a stated approximation of about four characters
// a token, which holds for English prose and code with the BPE vocabularies of current models (within about a
// quarter either way; less well for other scripts). Used to warn before a prompt overflows a local server's
// context and to notice when a server read less of the prompt than was sent.

/**
 * OpenAI's vocabulary (2.4 MB of JavaScript), kept in the binary as a file rather than as code: compiled in, it made
 * the binary 10 MB larger (its bytecode); as a file it adds its own size and is read and compiled only the first
 * time a count is wanted (about 0.3 s, once per process, and only when a server sent no counts).
 * Bun gives a `type: "file"` import as the file's path; TypeScript sees the module.
 */
import o200kRanks from "gpt-tokenizer/esm/bpeRanks/o200k_base" with { type: "file" }

export const CHARS_PER_TOKEN = 4

/** Each message costs a few tokens of framing (role markers) in every chat template. */
const PER_MESSAGE = 4

export const estimateTokens = (text: string): number => Math.ceil(text.length / CHARS_PER_TOKEN)

/** The prompt of a conversation: its system prompt and turns, each counted with `count` (by default, the rule above). */
export const estimatePrompt = (
  system: string | undefined,
  turns: ReadonlyArray<{ readonly parts: ReadonlyArray<{ readonly type: string }> }>,
  count: (text: string) => number = estimateTokens,
  /** What a part that is no text costs (an image, by its API's formula); nothing by default. */
  other: (part: { readonly type: string }) => number = () => 0
): number =>
  (system !== undefined ? count(system) + PER_MESSAGE : 0) +
  turns.reduce((sum, t) => sum + t.parts.reduce((n, p) => n + count(partText(p)) + other(p), 0) + PER_MESSAGE, 0)

/** What of a part the model reads as text: its text, a call's name and arguments, a result's output. */
const partText = (part: { readonly type: string }): string => {
  const p = part as { text?: string; name?: string; arguments?: string; output?: string }
  switch (part.type) {
    case "text":
    case "reasoning":
      return p.text ?? ""
    case "tool-call":
      return `${p.name ?? ""}${p.arguments ?? ""}`
    case "tool-result":
      return p.output ?? ""
    default:
      return ""
  }
}

/** How a count was made: OpenAI's own tokenizer, or the approximation above. */
export type CountMethod = "o200k_base" | "approximate"

/** OpenAI's models (also behind OpenRouter: `openai/gpt-5`), whose tokenizer byok carries. */
const OPENAI_MODEL = /^(?:openai\/)?(?:gpt-|o\d|chatgpt-|codex-)/i


/**
 * A token counter for a model: OpenAI's o200k_base tokenizer (the npm package gpt-tokenizer, loaded the first time
 * it is needed) for OpenAI models, the approximation for all others.
 */
export const counterFor = async (model: string): Promise<{ readonly count: (text: string) => number; readonly method: CountMethod }> => {
  if (!OPENAI_MODEL.test(model)) return { count: estimateTokens, method: "approximate" }
  const [{ GptEncoding }, ranks] = await Promise.all([
    import("gpt-tokenizer/esm/GptEncoding"),
    import(o200kRanks as unknown as string) as Promise<{ readonly default: ReadonlyArray<string> }>
  ])
  const api = GptEncoding.getEncodingApi("o200k_base", () => ranks.default as Array<string>)
  return { count: (text) => api.countTokens(text), method: "o200k_base" }
}
