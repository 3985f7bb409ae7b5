// Token counts byok must estimate because no server said them: a stated approximation of about four characters
// a token, which holds for English prose and code with the BPE vocabularies of current models (within about a
// quarter either way; less well for other scripts). Used to warn before a prompt overflows a local server's
// context and to notice when a server read less of the prompt than was sent.

export const CHARS_PER_TOKEN = 4

/** Each message costs a few tokens of framing (role markers) in every chat template. */
const PER_MESSAGE = 4

export const estimateTokens = (text: string): number => Math.ceil(text.length / CHARS_PER_TOKEN)

/** The prompt of a conversation: its system prompt and turns. */
export const estimatePrompt = (system: string | undefined, turns: ReadonlyArray<{ readonly content: string }>): number =>
  (system !== undefined ? estimateTokens(system) + PER_MESSAGE : 0) +
  turns.reduce((sum, t) => sum + estimateTokens(t.content) + PER_MESSAGE, 0)

/** How a count was made: OpenAI's own tokenizer, or the approximation above. */
export type CountMethod = "o200k_base" | "approximate"

/** OpenAI's models (also behind OpenRouter: `openai/gpt-5`), whose tokenizer byok carries. */
const OPENAI_MODEL = /^(?:openai\/)?(?:gpt-|o\d|chatgpt-|codex-)/i

/**
 * A token counter for a model: OpenAI's o200k_base tokenizer (the npm package gpt-tokenizer, loaded the first time
 * it is needed: its vocabulary is 2.4 MB of JavaScript) for OpenAI models, the approximation for all others.
 */
export const counterFor = async (model: string): Promise<{ readonly count: (text: string) => number; readonly method: CountMethod }> => {
  if (!OPENAI_MODEL.test(model)) return { count: estimateTokens, method: "approximate" }
  const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base")
  return { count: (text) => countTokens(text), method: "o200k_base" }
}
