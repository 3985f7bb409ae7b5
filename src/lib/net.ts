// Where a model is served: a base URL parsed once (when its config entry is validated) into the facts the rest of
// byok asks of it: host for messages, port for local-server hints, path for base-URL hints, and whether the host is
// local (loopback, private, link-local), which decides pricing ("local") and advice ("start the server").

export interface Endpoint {
  readonly url: URL
  /** `host:port` as written (`localhost:11434`, `api.openai.com`). */
  readonly host: string
  /** Without the port; IPv6 without brackets. */
  readonly hostname: string
  /** The port, explicit or the scheme's default. */
  readonly port: string
  /** The path without a trailing slash ("" for none). */
  readonly path: string
  /** The path names an API version (`/v1`, `/v1beta`, `/api/v1`), so nothing should be added to it. */
  readonly versioned: boolean
  readonly isLocal: boolean
}

const IPV4_PRIVATE = /^(127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.|0\.0\.0\.0$)/
const IPV6_LOCAL = /^(::1|f[cd][0-9a-f]{2}:.*|fe[89ab][0-9a-f]:.*)$/i

/**
 * Loopback, private ranges (RFC 1918, IPv6 unique-local), link-local, mDNS `.local`, `localhost` and Docker's
 * `host.docker.internal`: hosts where a model runs on the user's own hardware.
 */
export const isLocalHostname = (hostname: string): boolean => {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "")
  return h === "localhost" || h.endsWith(".localhost") || h.endsWith(".local") || h === "host.docker.internal" ||
    IPV4_PRIVATE.test(h) || IPV6_LOCAL.test(h)
}

/** A base URL → its endpoint; undefined when it is not an http(s) URL. */
export const parseEndpoint = (baseUrl: string): Endpoint | undefined => {
  const url = URL.parse(baseUrl)
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) return undefined
  const hostname = url.hostname.replace(/^\[|\]$/g, "")
  const path = url.pathname.replace(/\/+$/, "")
  return {
    url,
    host: url.host,
    hostname,
    port: url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80",
    path,
    versioned: /\/v\d+(beta\d*|alpha\d*)?(\/|$)/.test(path),
    isLocal: isLocalHostname(hostname)
  }
}
