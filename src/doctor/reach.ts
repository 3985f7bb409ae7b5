// The doctor's checks of where byok reaches beyond the models: the OpenTelemetry collector (an empty export to each
// endpoint, which a collector accepts and answers 200) and, in offline mode, the list of what would be refused.
import { Duration, Effect } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import type { LoadedConfig } from "../config/config.ts"
import { showProxy, type ProxySettings } from "../lib/network.ts"
import { offlineAllows, type OfflinePolicy, refusalFor } from "../lib/offline.ts"
import type { TelemetrySettings } from "../telemetry/settings.ts"
import type { Check } from "./doctor.ts"

const EXPORT_TIMEOUT = Duration.seconds(5)

/** Each signal's endpoint, sent an empty export with the configured headers and protocol. */
export const telemetryChecks = (settings: TelemetrySettings | undefined, problems: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const checks: Array<Check> = problems.map((p) => ({ name: "config", status: "warn", detail: p }))
    if (settings === undefined) return checks
    const client = yield* HttpClient.HttpClient
    for (const [signal, url] of Object.entries(settings.endpoints)) {
      const refused = refusalFor(url)
      if (refused !== undefined) {
        checks.push({ name: signal, status: "warn", detail: refused.message, fix: "point the endpoint at a collector on this machine or your network, or run without offline mode" })
        continue
      }
      const started = Date.now()
      const json = settings.protocol === "http/json"
      const request = HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders(settings.headers),
        json ? HttpClientRequest.bodyText("{}", "application/json") : HttpClientRequest.bodyUint8Array(new Uint8Array(), "application/x-protobuf")
      )
      const outcome = yield* client.execute(request).pipe(
        Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }),
        Effect.timeout(EXPORT_TIMEOUT),
        Effect.map((r) => ({ status: r.status })),
        Effect.catch((e) => Effect.succeed({ error: e._tag === "TimeoutError" ? `no answer in ${Duration.toSeconds(EXPORT_TIMEOUT)} s` : "cannot connect" }))
      )
      const where = `${signal} → ${showProxy(url)} (${settings.protocol})`
      checks.push(
        "status" in outcome && outcome.status >= 200 && outcome.status < 300
          ? { name: signal, status: "ok", detail: `${where}: accepted in ${Date.now() - started} ms` }
          : {
            name: signal,
            status: "fail",
            detail: `${where}: ${"status" in outcome ? `HTTP ${outcome.status}` : outcome.error}`,
            fix: "status" in outcome && (outcome.status === 401 || outcome.status === 403)
              ? "the collector refused the credentials: check OTEL_EXPORTER_OTLP_HEADERS (or telemetry.headers)"
              : "start the collector, or fix OTEL_EXPORTER_OTLP_ENDPOINT (the OTLP/HTTP port is usually 4318); byok's own work is never slowed by it more than 1 s",
            code: 5
          }
      )
    }
    return checks
  })

/** In offline mode: every place byok would reach, and whether offline mode lets it. */
export const offlineChecks = (
  policy: OfflinePolicy,
  loaded: LoadedConfig,
  mcp: ReadonlyArray<{ readonly name: string; readonly url: string | undefined }>,
  telemetry: TelemetrySettings | undefined,
  proxies: ProxySettings
): ReadonlyArray<Check> => {
  const checks: Array<Check> = [{
    name: "offline",
    status: "ok",
    detail: `on (${policy.source}): only loopback and private addresses${policy.hosts.length > 0 ? `, and ${policy.hosts.join(", ")} (offlineHosts)` : ""}; commands get no network`
  }]
  const place = (name: string, url: string) => {
    const refused = refusalFor(url)
    checks.push(
      refused === undefined
        ? { name, status: "ok", detail: `${new URL(url).host}: local` }
        : { name, status: "warn", detail: `${new URL(url).host}: refused, not a loopback or private address`, fix: 'if it is on your own network, add its name to "offlineHosts" in ~/.factory/settings.json' }
    )
  }
  for (const record of loaded.entries) if (record.entry !== undefined) place(`model ${record.entry.displayName}`, record.entry.endpoint.url.href)
  for (const server of mcp) {
    if (server.url !== undefined) place(`MCP ${server.name}`, server.url)
    else checks.push({ name: `MCP ${server.name}`, status: "ok", detail: "a local process (stdio): byok opens no connection for it, but cannot keep the server itself offline" })
  }
  for (const [signal, url] of Object.entries(telemetry?.endpoints ?? {})) place(`telemetry ${signal}`, url)
  for (const [scheme, proxy] of [["http", proxies.http], ["https", proxies.https]] as const) {
    if (proxy === undefined) continue
    let host = proxy
    try {
      host = new URL(proxy).hostname
    } catch {
      // shown as written
    }
    checks.push(
      offlineAllows(host, policy.hosts)
        ? { name: `${scheme} proxy`, status: "ok", detail: `${showProxy(proxy)}: local` }
        : { name: `${scheme} proxy`, status: "warn", detail: `${showProxy(proxy)}: refused (from ${proxies.from[scheme] ?? "the environment"}); requests that would go through it fail`, fix: "unset it, or list the local hosts in NO_PROXY" }
    )
  }
  return checks
}
