// How byok reaches a server: through which proxy, if any. byok decides this itself rather than leave it to Bun's
// fetch, which applies HTTP_PROXY even to loopback and names no proxy when one fails. At start-up the proxy
// variables are taken out of the environment (so fetch does nothing behind byok's back) and each request is given
// its proxy explicitly:
// - HTTPS_PROXY for https:// servers, HTTP_PROXY for http:// ones (upper or lower case; lower wins, as in curl);
// - NO_PROXY (or no_proxy): `*`, host names (a name matches itself and its subdomains; a leading dot too), IP
//   addresses, each optionally with `:port`;
// - loopback (localhost, 127.0.0.0/8, ::1) goes direct unless NO_PROXY is set, which then decides alone.
// CA files need nothing here: Bun itself reads NODE_EXTRA_CA_CERTS and SSL_CERT_FILE; a model's `caFile` is
// passed with its requests (providers/http.ts).
import { Context, Layer } from "effect"

export interface ProxySettings {
  /** For http:// servers. */
  readonly http: string | undefined
  /** For https:// servers. */
  readonly https: string | undefined
  /** NO_PROXY's entries, when it is set (even empty). */
  readonly noProxy: ReadonlyArray<string> | undefined
  /** Which variable each proxy came from, for messages. */
  readonly from: { readonly http?: string; readonly https?: string }
}

const VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"] as const

/** The settings the environment gives. */
export const proxySettings = (env: Readonly<Record<string, string | undefined>>): ProxySettings => {
  const pick = (lower: string, upper: string) => {
    const value = env[lower]?.trim() ? lower : env[upper]?.trim() ? upper : undefined
    return value !== undefined ? { url: env[value]!.trim(), from: value } : undefined
  }
  const https = pick("https_proxy", "HTTPS_PROXY")
  const http = pick("http_proxy", "HTTP_PROXY")
  const no = env["no_proxy"] ?? env["NO_PROXY"]
  return {
    https: https?.url,
    http: http?.url,
    noProxy: no === undefined ? undefined : no.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter((s) => s !== ""),
    from: { ...(https ? { https: https.from } : {}), ...(http ? { http: http.from } : {}) }
  }
}

const isLoopback = (host: string) => host === "localhost" || host.endsWith(".localhost") || /^127\./.test(host) || host === "::1"

/** Whether NO_PROXY sends this host (and port) direct. */
const bypassed = (noProxy: ReadonlyArray<string>, host: string, port: string) =>
  noProxy.some((entry) => {
    if (entry === "*") return true
    const [name, entryPort] = entry.startsWith("[")
      ? [entry.slice(1, entry.indexOf("]")), entry.slice(entry.indexOf("]") + 2) || undefined]
      : entry.includes(":") && entry.split(":").length === 2
      ? entry.split(":") as [string, string]
      : [entry, undefined]
    if (entryPort !== undefined && entryPort !== port) return false
    const bare = name.replace(/^\*?\./, "")
    return host === bare || host.endsWith(`.${bare}`)
  })

/** The proxy for a server's URL, or undefined to go direct. */
export const proxyFor = (settings: ProxySettings, url: URL): string | undefined => {
  const proxy = url.protocol === "https:" ? settings.https : settings.http
  if (proxy === undefined) return undefined
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "")
  const port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80"
  if (settings.noProxy === undefined) return isLoopback(host) ? undefined : proxy
  return bypassed(settings.noProxy, host, port) ? undefined : proxy
}

/** A proxy URL as it may be shown: any user and password in it hidden. */
export const showProxy = (proxy: string): string => proxy.replace(/\/\/[^/@]*@/, "//***@")

/** The variable a proxy came from, for a server's URL (HTTPS_PROXY, http_proxy, …). */
export const proxyVariable = (settings: ProxySettings, url: URL): string =>
  (url.protocol === "https:" ? settings.from.https : settings.from.http) ?? "HTTPS_PROXY"

/** No proxy at all. */
export const direct: ProxySettings = { http: undefined, https: undefined, noProxy: undefined, from: {} }

/** The proxy settings in force; direct unless main provides the environment's (`layer`). */
export const Network = Context.Reference<ProxySettings>("byok/Network", { defaultValue: () => direct })

/**
 * The settings from the process's environment, which loses its proxy variables: from here on, only the proxy byok
 * passes with a request is used.
 */
export const layer = Layer.sync(Network, () => {
  const settings = proxySettings(process.env)
  for (const name of VARIABLES) delete process.env[name]
  return settings
})
