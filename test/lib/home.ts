// A HOME for end-to-end tests: droid's settings.json with the given models (customModels), and nothing else.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CANARY } from "./provider.ts"

export const homeWithModels = (customModels: ReadonlyArray<Record<string, unknown>>, settings: Record<string, unknown> = {}) => {
  const home = mkdtempSync(join(tmpdir(), "byok-home-"))
  mkdirSync(join(home, ".factory"))
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({ ...settings, customModels }))
  return home
}

/** A settings.json model entry with the canary key and a small output cap. */
export const fakeModel = (displayName: string, provider: string, model: string, baseUrl: string, over: Record<string, unknown> = {}) =>
  ({ displayName, model, baseUrl, apiKey: CANARY, provider, maxOutputTokens: 256, ...over })

/** One model per wire format, all on the fake server at `url`: Chat (Chat Completions), Claude, GPT (Responses). */
export const oneModelPerFormat = (url: string) => [
  fakeModel("Chat", "generic-chat-completion-api", "gpt-4.1", `${url}/v1`),
  fakeModel("Claude", "anthropic", "claude-sonnet-4-5", url),
  fakeModel("GPT", "openai", "gpt-5.1", `${url}/v1`)
]
