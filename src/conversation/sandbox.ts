// The sandbox of a run, made from the loaded config: its settings, the secret files, and the environment commands
// get (byok's own less every secret: sandbox/env.ts). exec and the chat each make one when the model acts.
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import type { LoadedConfig } from "../config/config.ts"
import { offlinePolicy } from "../lib/offline.ts"
import type { Interface as Redactor } from "../lib/redact.ts"
import { referencedNames, scrubEnv } from "../sandbox/env.ts"
import { detect, make, type Sandbox } from "../sandbox/sandbox.ts"

/** The environment what byok runs for a model gets (commands, custom command scripts), and the names left out. */
export const shellEnvironment = (config: LoadedConfig, redactor: Redactor) => {
  const referenced = new Set(config.referencedVars)
  for (const file of config.mcpFiles) {
    try {
      for (const name of referencedNames(readFileSync(file.path, "utf8"))) referenced.add(name)
    } catch {
      // unreadable: MCP says so when it reads it
    }
  }
  return scrubEnv(process.env, { referenced, include: config.shellInclude, holdsSecret: (value) => redactor.redact(value) !== value })
}

export const openSandbox = (config: LoadedConfig, redactor: Redactor): Effect.Effect<Sandbox> =>
  Effect.promise(async () => {
    const status = await detect()
    const { env, dropped } = shellEnvironment(config, redactor)
    return make({
      settings: { ...config.sandbox.settings, offline: offlinePolicy().on },
      source: config.sandbox.source,
      status,
      home: process.env["HOME"],
      secretFiles: config.secretFiles,
      env,
      dropped
    })
  })
