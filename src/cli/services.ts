// What a command's implementation runs with, beyond the CLI's platform (app.ts): the config its --config flag
// selects, the stores, the network and the providers. Each implementation provides them itself when it runs, so
// that --help, a usage error, and the modules of other commands never load or build them.
import { Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"
import * as SessionStore from "../chat/sessions.ts"
import * as Config from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import { REASONING_EFFORTS, reasoningEffortOf } from "../config/schema.ts"
import * as CostLedger from "../ledger/ledger.ts"
import { envVar } from "../lib/env.ts"
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

/** Runs a command's implementation with the services and the config its `--config` flag selects. */
export const withConfig = (file: Option.Option<string>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, Config.layer({ explicitFile: Option.getOrUndefined(file) }).pipe(Layer.provideMerge(ServicesLayer)))

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
