// The environment of what byok runs for a model (Execute, custom command scripts): byok's own, less every variable
// that may hold a secret: a name with KEY, SECRET, TOKEN, PASSWORD or CREDENTIAL in it (codex's default policy), a
// variable a config file references, one whose value holds a configured key, the OTLP exporter's headers, and the
// agents' sockets. The user passes named ones through with settings.json's `shellEnvironment.include`.

const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL/i
/** The collector's credentials (telemetry), under a name that says none of those words. */
const SECRET_EXACT = /^OTEL_EXPORTER_OTLP_(?:[A-Z]+_)?HEADERS$/
/** Sockets that hand out the user's keys to whoever connects. */
const AGENT_SOCKETS = new Set(["SSH_AUTH_SOCK", "GPG_AGENT_INFO", "SSH_AGENT_PID"])

export interface EnvPolicy {
  /** `${VAR}` names the config files (and mcp.json) reference. */
  readonly referenced: ReadonlySet<string>
  /** `shellEnvironment.include`: names passed through whatever they are called. */
  readonly include: ReadonlyArray<string>
  /** Whether a value holds a configured secret (the redactor knows it). */
  readonly holdsSecret: (value: string) => boolean
}

/** The variables a command gets, and the names left out (for /sandbox and the doctor; never their values). */
export const scrubEnv = (
  env: Readonly<Record<string, string | undefined>>,
  policy: EnvPolicy
): { readonly env: Record<string, string>; readonly dropped: ReadonlyArray<string> } => {
  const kept: Record<string, string> = {}
  const dropped: Array<string> = []
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    const secret = SECRET_NAME.test(name) || SECRET_EXACT.test(name) || AGENT_SOCKETS.has(name) || policy.referenced.has(name) || policy.holdsSecret(value)
    if (secret && !policy.include.includes(name)) dropped.push(name)
    else kept[name] = value
  }
  return { env: kept, dropped: dropped.sort() }
}

/** The `${NAME}` references in a config file's text (not `${file:…}`). */
export const referencedNames = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!)
