// A HOME for end-to-end tests: droid's settings.json with the given models (customModels), and nothing else.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const homeWithModels = (customModels: ReadonlyArray<Record<string, unknown>>, settings: Record<string, unknown> = {}) => {
  const home = mkdtempSync(join(tmpdir(), "byok-home-"))
  mkdirSync(join(home, ".factory"))
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({ ...settings, customModels }))
  return home
}
