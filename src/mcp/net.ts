// How MCP's own requests (Streamable HTTP, legacy SSE, OAuth) reach the network: through the proxy that byok's
// settings give each URL (lib/network.ts; loopback direct unless NO_PROXY says otherwise), as a model's requests do.
// Set once a run, where the MCP servers are opened.
import { netFetch } from "../lib/offline.ts"

let route: (url: string) => string | undefined = () => undefined

export const routeMcpThrough = (proxyFor: (url: string) => string | undefined) => {
  route = proxyFor
}

export const mcpFetch = (url: string, init: RequestInit = {}): Promise<Response> => {
  const proxy = route(url)
  return netFetch(url, proxy !== undefined ? { ...init, proxy } : init)
}
