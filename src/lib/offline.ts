// Offline mode: byok contacts only loopback and private addresses. One check, in the one fetch every connection
// byok opens goes through (models, local servers, MCP, OAuth, telemetry, the doctor): a URL elsewhere, or a proxy
// elsewhere, is refused before any DNS lookup or connection. A name is local only when it is `localhost` or the
// user's `offlineHosts` says so: whether any other name is private cannot be known without asking DNS.

export interface OfflinePolicy {
  readonly on: boolean
  /** What turned it on: "--offline", "BYOK_OFFLINE", or a settings file's path. */
  readonly source: string
  /** Host names the user says are local (settings.json `offlineHosts`), lower case. */
  readonly hosts: ReadonlyArray<string>
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16 (link-local). */
const privateV4 = (h: string): boolean => {
  const m = IPV4.exec(h)
  if (m === null) return false
  const [a, b] = [Number(m[1]), Number(m[2])]
  if ([a, b, Number(m[3]), Number(m[4])].some((n) => n > 255)) return false
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)
}

/** ::1, fc00::/7 (unique local), fe80::/10 (link-local), and IPv4-mapped private addresses. */
const privateV6 = (h: string): boolean => {
  if (!h.includes(":")) return false
  if (h === "::1" || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(h)) return true
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h)
  if (mapped !== null) return privateV4(mapped[1]!)
  return /^f[cd][0-9a-f]{0,2}:/i.test(h) || /^fe[89ab][0-9a-f]?:/i.test(h)
}

/** Whether offline mode lets byok contact this host (no DNS asked). */
export const offlineAllows = (hostname: string, hosts: ReadonlyArray<string>): boolean => {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "")
  return h === "localhost" || h.endsWith(".localhost") || privateV4(h) || privateV6(h) || hosts.includes(h)
}

/** Why offline mode refuses a connection: thrown by `netFetch`, read by providers/http.ts as its own kind. */
export class OfflineRefusal extends Error {
  override readonly name = "OfflineRefusal"
  constructor(readonly host: string, readonly source: string, readonly viaProxy: boolean) {
    super(
      `offline mode is on (${source}): ${viaProxy ? `the proxy ${host}` : host} is not a loopback or private address, so byok does not contact it`
    )
  }
}

let policy: OfflinePolicy = { on: false, source: "", hosts: [] }

/** Set once a run, before anything connects (cli/services.ts). */
export const setOffline = (next: OfflinePolicy) => {
  policy = next
}

export const offlinePolicy = (): OfflinePolicy => policy

const hostOf = (url: string | URL): { host: string; hostname: string } | undefined => {
  try {
    const u = typeof url === "string" ? new URL(url) : url
    return { host: u.host, hostname: u.hostname }
  } catch {
    return undefined
  }
}

/** The refusal for a URL (and the proxy it would go through) under the current policy; undefined when allowed. */
export const refusalFor = (url: string | URL, proxy?: string | undefined): OfflineRefusal | undefined => {
  if (!policy.on) return undefined
  const target = hostOf(url)
  // Not a URL fetch can use: fetch itself says why; a unix socket or data: URL opens no connection elsewhere.
  if (target === undefined || target.hostname === "") return undefined
  if (!offlineAllows(target.hostname, policy.hosts)) return new OfflineRefusal(target.host, policy.source, false)
  if (proxy !== undefined) {
    const via = hostOf(proxy)
    if (via !== undefined && !offlineAllows(via.hostname, policy.hosts)) return new OfflineRefusal(via.host.replace(/^.*@/, ""), policy.source, true)
  }
  return undefined
}

/** fetch, with offline mode's check first: what every connection byok opens goes through. */
export const netFetch = ((input: string | URL | Request, init?: RequestInit & { proxy?: string }) => {
  const url = typeof input === "string" || input instanceof URL ? input : input.url
  const refused = refusalFor(url, init?.proxy)
  if (refused !== undefined) return Promise.reject(refused)
  return fetch(input, init)
}) as typeof fetch
