// What a command byok runs for a model may touch, by autonomy level: where it may write, which places it may not
// read (the secret ones), and whether it may reach the network. Pure: the caller gives the home, the working
// directory and the config's secret files; linux.ts and macos.ts turn a policy into the OS's own rules.
import { homedir } from "node:os"
import { join, resolve } from "node:path"
import type { Autonomy } from "./levels.ts"

/** The hidden argument that makes byok's executable the sandbox helper (enter.ts). */
export const SANDBOX_ARG = "__sandbox"
/** The exit code when the sandbox could not be applied: the command did not run. */
export const SANDBOX_FAILED = 125

/** droid has no sandbox setting; these are byok's (`sandbox` in settings.json). */
export type SandboxMode = "auto" | "always" | "required" | "off"
export const SANDBOX_MODES: ReadonlyArray<SandboxMode> = ["off", "auto", "required", "always"]

/** How strict a mode is: a project's settings may only raise it. */
export const strictness = (mode: SandboxMode): number => SANDBOX_MODES.indexOf(mode)

export interface SandboxSettings {
  readonly mode: SandboxMode
  /** `sandboxWritableRoots`: more directories commands may write below high (the user's own settings only). */
  readonly writableRoots: ReadonlyArray<string>
  /** Offline mode (lib/offline.ts): commands get no network at any level, high included. */
  readonly offline?: boolean | undefined
}

export const DEFAULT_SETTINGS: SandboxSettings = { mode: "auto", writableRoots: [] }

export interface Policy {
  readonly level: Autonomy
  /** Directories (and files) where writing is allowed, absolute. */
  readonly write: ReadonlyArray<string>
  /** Places no command may read (or write), absolute: keys, credentials, byok's and droid's files. */
  readonly secret: ReadonlyArray<string>
  /** Inside the working directory, what stays as it is below high: code planted there runs later as the user. */
  readonly protect: ReadonlyArray<string>
  readonly network: boolean
}

/** Credential stores under the home directory, as Claude Code's sandbox runtime and codex deny them. */
const HOME_SECRETS = [
  ".factory", ".ssh", ".aws", ".gnupg", ".netrc", ".docker/config.json", ".kube", ".config/gh", ".config/gcloud",
  ".azure", ".git-credentials", ".config/git/credentials", ".password-store", ".vault-token", ".npmrc", ".pypirc",
  ".gem/credentials", ".cargo/credentials", ".cargo/credentials.toml", ".terraform.d/credentials.tfrc.json",
  ".config/hub", ".local/share/keyrings", ".mozilla", ".config/google-chrome", ".config/chromium",
  ".bash_history", ".zsh_history", ".python_history", ".node_repl_history", ".psql_history", ".mysql_history",
  "Library/Keychains", "Library/Application Support/Google/Chrome", ".config/byok"
]

/** Package managers' caches: writable from medium, so installs and builds work. */
const HOME_CACHES = [".npm", ".cache", ".cargo", "go/pkg", ".bun/install", ".yarn", ".pnpm-store", ".local/share/pnpm", ".m2", ".gradle", ".rustup", ".deno", "Library/Caches"]

/** In each writable workspace: git's configuration and hooks, and droid's project files. */
export const PROTECTED = [".git/config", ".git/hooks", ".factory"]

export interface Place {
  readonly home: string | undefined
  readonly cwd: string
  /** byok's data directory, its config file, every `${file:…}` the config names. */
  readonly secretFiles: ReadonlyArray<string>
  /** A private TMPDIR for this byok process. */
  readonly tmpdir: string
  /** The shared temporary directory (`/tmp`). */
  readonly sharedTmp: string
}

/** Whether a level (with the setting) runs in a sandbox at all. */
export const sandboxed = (level: Autonomy, settings: SandboxSettings): boolean =>
  settings.offline === true || (settings.mode !== "off" && (level !== "high" || settings.mode === "always"))

/**
 * The policy of a level; at high (with `sandbox: "always"`), medium's. At high in offline mode without "always",
 * high's own freedom with the network taken away: everything may be written, nothing reached.
 */
export const policyFor = (level: Autonomy, settings: SandboxSettings, place: Place): Policy => {
  if (level === "high" && settings.offline === true && settings.mode !== "always") {
    return { level, write: ["/"], secret: [], protect: [], network: false }
  }
  const home = place.home ?? homedir()
  const inHome = (p: string) => join(home, p)
  const write = level === "off"
    ? ["/dev/null"]
    : [
      place.cwd,
      place.tmpdir,
      "/dev/null",
      ...(level === "low" ? [] : [place.sharedTmp, "/var/tmp", "/dev/shm", ...HOME_CACHES.map(inHome)]),
      ...settings.writableRoots.map((r) => resolve(place.cwd, r.startsWith("~/") ? inHome(r.slice(2)) : r))
    ]
  return {
    level,
    write,
    secret: [...HOME_SECRETS.map(inHome), ...place.secretFiles],
    protect: level === "off" ? [] : PROTECTED.map((p) => join(place.cwd, p)),
    network: settings.offline !== true && (level === "medium" || level === "high")
  }
}
