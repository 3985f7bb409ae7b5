// What a command's implementation runs with, beyond the CLI's platform (app.ts): the config its --config flag
// selects, the stores, the network and the providers. Each implementation provides them itself when it runs, so
// that --help, a usage error, and the modules of other commands never load or build them.
import { type Cause, Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"
import * as SessionStore from "../chat/sessions.ts"
import * as Config from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import { REASONING_EFFORTS, reasoningEffortOf } from "../config/schema.ts"
import * as CostLedger from "../ledger/ledger.ts"
import { envFlag, envVar } from "../lib/env.ts"
import { netFetch, refusalFor, setOffline } from "../lib/offline.ts"
import { Redactor } from "../lib/redact.ts"
import { mayBeOn, OTEL_VARIABLES, readTelemetry } from "../telemetry/settings.ts"
import { term, warn } from "./term.ts"
import * as Network from "../lib/network.ts"
import * as LocalServers from "../providers/local.ts"
import * as Provider from "../providers/provider.ts"
import { DEFAULT_MAX_RETRIES } from "../providers/retry.ts"

/** The stores, the network and the providers. */
const ServicesLayer = Layer.mergeAll(CostLedger.layer, SessionStore.layer, Provider.layer, LocalServers.layer).pipe(
  Layer.provideMerge(FetchHttpClient.layer),
  Layer.provideMerge(Network.layer)
)

/** Runs a command's implementation with the services. */
export const withServices = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, ServicesLayer)

/**
 * Runs a command's implementation with the services and the config its `--config` flag selects, and, when an OTLP
 * endpoint is set (the OTEL_* variables or settings.json's `telemetry`), with its telemetry around it.
 */
export const withConfig = (file: Option.Option<string>, command: string, flags: { readonly offline?: boolean } = {}) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(
    Effect.andThen(offlineFrom(flags.offline === true), telemetered(command, effect)),
    Config.layer({ explicitFile: Option.getOrUndefined(file) }).pipe(Layer.provideMerge(ServicesLayer))
  ).pipe(
    // Every request of the command through offline mode's check (lib/offline.ts); the client reads it per request.
    Effect.provideService(FetchHttpClient.Fetch, netFetch)
  )

/**
 * Offline mode for this run, from --offline, BYOK_OFFLINE, or settings.json's `offline` (which a project may turn
 * on, not off): set before anything connects. Its sandbox has no network at any level (conversation/sandbox.ts).
 */
const offlineFrom = (flag: boolean) =>
  Effect.gen(function*() {
    const loaded = yield* Effect.flatMap(Config.ConfigService, (c) => c.load).pipe(Effect.option)
    const hosts = Option.isSome(loaded) ? loaded.value.offlineHosts : []
    const source = flag
      ? "--offline"
      : (yield* envFlag("BYOK_OFFLINE"))
      ? "BYOK_OFFLINE"
      : Option.isSome(loaded) && loaded.value.offline.on
      ? `offline in ${loaded.value.offline.source}`
      : undefined
    setOffline({ on: source !== undefined, source: source ?? "", hosts })
  })

/** The OTEL_* variables byok reads. */
const otelEnvironment = Effect.gen(function*() {
  const env: Record<string, string | undefined> = {}
  for (const name of OTEL_VARIABLES) env[name] = yield* envVar(name)
  return env
})

/** The telemetry settings (undefined: off), its problems said as warnings, and the collector's headers redacted. */
export const telemetrySettings = Effect.gen(function*() {
  const loaded = yield* Effect.flatMap(Config.ConfigService, (c) => c.load).pipe(Effect.option)
  const fromFile = Option.isSome(loaded) ? loaded.value.telemetry : undefined
  const env = yield* otelEnvironment
  return mayBeOn(env, fromFile?.value) ? readTelemetry(env, fromFile?.value, fromFile?.file) : undefined
})

const telemetered = <A, E, R>(command: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const read = yield* telemetrySettings
    if (read === undefined) return yield* effect
    const redactor = yield* Redactor
    for (const value of Object.values(read.settings?.headers ?? {})) redactor.add(value)
    const t = yield* term
    for (const problem of read.problems) yield* warn(t, `telemetry: ${problem}`)
    if (read.settings === undefined) return yield* effect
    // Offline: a collector elsewhere is refused before any lookup, said once, and nothing is exported there.
    const endpoints = { ...read.settings.endpoints }
    const refused = new Map<string, Array<string>>()
    for (const [signal, url] of Object.entries(endpoints)) {
      const refusal = refusalFor(url)
      if (refusal === undefined) continue
      delete endpoints[signal as keyof typeof endpoints]
      refused.set(refusal.message, [...(refused.get(refusal.message) ?? []), signal])
    }
    for (const [message, signals] of refused) yield* warn(t, `telemetry: ${message}; ${signals.join(", ")} are not exported`)
    if (Object.keys(endpoints).length === 0) return yield* effect
    const { around } = yield* Effect.promise(() => import("../telemetry/otlp.ts"))
    const exitCodeOf = (cause: Cause.Cause<unknown>) => Effect.map(Effect.promise(() => import("./exit.ts")), (m) => m.describeCause(cause).code)
    return yield* around({ ...read.settings, endpoints }, command, exitCodeOf)(effect)
  })

/** --timeout, else BYOK_TIMEOUT, in seconds; undefined when neither is set. Anything but a positive number is refused. */
export const timeoutSetting = (flag: Option.Option<string>) =>
  Effect.gen(function*() {
    const from = Option.isSome(flag) ? "--timeout" : "BYOK_TIMEOUT"
    const raw = Option.isSome(flag) ? flag.value : yield* envVar("BYOK_TIMEOUT")
    if (raw === undefined || raw.trim() === "") return undefined
    const seconds = Number(raw)
    if (!Number.isFinite(seconds) || seconds <= 0) {
      return yield* new UsageError({ detail: `${from} must be a number of seconds above 0, got "${raw}"` })
    }
    return seconds
  })

/**
 * --max-retries, else BYOK_MAX_RETRIES, else the SDKs' default of 2. Anything but a whole number of 0 or more is
 * refused, as BYOK_TIMEOUT's is: a setting that is silently ignored is worse than an error.
 */
export const maxRetriesSetting = (flag: number | undefined = undefined) =>
  Effect.gen(function*() {
    if (flag !== undefined) {
      if (!Number.isInteger(flag) || flag < 0) {
        return yield* new UsageError({ detail: `--max-retries must be a whole number of 0 or more, got ${flag}` })
      }
      return flag
    }
    const raw = yield* envVar("BYOK_MAX_RETRIES")
    if (raw === undefined || raw.trim() === "") return DEFAULT_MAX_RETRIES
    if (!/^\d+$/.test(raw.trim())) {
      return yield* new UsageError({
        detail: `BYOK_MAX_RETRIES must be a whole number of 0 or more, got "${raw}"`,
        hint: "Set it to 0 to never retry, or unset it for the default (2)."
      })
    }
    return Number(raw.trim())
  })

/** -r / --reasoning-effort: one of its words (droid's minimal and xhigh too), or a usage error naming them. */
export const reasoningEffortSetting = (flag: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isNone(flag)) return undefined
    const effort = reasoningEffortOf(flag.value)
    if (effort === undefined) {
      return yield* new UsageError({ detail: `--reasoning-effort must be one of ${REASONING_EFFORTS.join(", ")}, got "${flag.value}"` })
    }
    return effort
  })
