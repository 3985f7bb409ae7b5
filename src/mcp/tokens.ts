// The OAuth tokens of byok's HTTP MCP servers: one file in the data directory (mcp-tokens.json, 600, written whole),
// keyed by each server's name and URL. Apart from oauth.ts (the flows) so that listing a login's state loads no
// cryptography.
import { chmodSync, closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs"

export type AuthMethod = "client_secret_basic" | "client_secret_post" | "none" | "private_key_jwt"

export interface Tokens {
  readonly accessToken: string
  readonly refreshToken?: string | undefined
  /** Milliseconds since the epoch. */
  readonly expiresAt?: number | undefined
  readonly scope?: string | undefined
  readonly clientId: string
  readonly clientSecret?: string | undefined
  readonly tokenEndpoint: string
  readonly authMethod: AuthMethod
  readonly resource: string
}

// ---- the store --------------------------------------------------------------------------------------------

export const tokensFile = (dataDir: string) => `${dataDir}/mcp-tokens.json`

const readStore = (file: string): Record<string, Tokens> => {
  try {
    const value: unknown = JSON.parse(readFileSync(file, "utf8"))
    return typeof value === "object" && value !== null ? (value as Record<string, Tokens>) : {}
  } catch {
    return {}
  }
}

export const loadTokens = (file: string, key: string): Tokens | undefined => readStore(file)[key]

/**
 * Runs `change` holding the store's lock file (created exclusively), so that two byok processes saving logins at
 * once both keep theirs. A lock older than 10 s was left by a byok that died while writing: it is taken over.
 */
const locked = <A>(file: string, change: () => A): A => {
  const lock = `${file}.lock`
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      closeSync(openSync(lock, "wx", 0o600))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) unlinkSync(lock)
      } catch {
        // gone already: try again
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by another byok; remove it if none is running`)
      Bun.sleepSync(5)
    }
  }
  try {
    return change()
  } finally {
    try {
      unlinkSync(lock)
    } catch {
      // already gone
    }
  }
}

/**
 * Writes one server's tokens (or forgets them) in the store, written whole (a temporary file renamed into place),
 * mode 600, under the store's lock. Returns why it could not (a read-only or full disk), else undefined.
 */
export const saveTokens = (file: string, key: string, tokens: Tokens | undefined): string | undefined => {
  try {
    locked(file, () => {
      const store = readStore(file)
      if (tokens === undefined) delete store[key]
      else store[key] = tokens
      const tmp = `${file}.${process.pid}.tmp`
      writeFileSync(tmp, JSON.stringify(store, null, 2), { mode: 0o600 })
      chmodSync(tmp, 0o600)
      renameSync(tmp, file)
    })
    return undefined
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    return e.code !== undefined ? `${e.code} (${file})` : e.message
  }
}

/** Whether tokens are about to expire (within a minute): refreshed before they are used. */
export const expiring = (tokens: Tokens): boolean => tokens.expiresAt !== undefined && tokens.expiresAt - Date.now() < 60_000

/** Where a server's tokens are kept in the store: its name and URL (a server moved elsewhere logs in again). */
export const tokenKey = (server: { readonly name: string; readonly url?: string | undefined }) => `${server.name} ${server.url ?? ""}`

