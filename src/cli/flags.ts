// Flags shared by several commands, and the Config layer they select.
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import * as Config from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import { envVar } from "../lib/env.ts"
import { DEFAULT_MAX_RETRIES } from "../providers/retry.ts"

export const configFlag = Flag.String("config").pipe(
  Flag.withMetavar("FILE"),
  Flag.withDescription("Read models from this file only, instead of ~/.factory/{config,settings}.json (env: BYOK_CONFIG)"),
  Flag.optional
)

export const modelFlag = Flag.String("model").pipe(
  Flag.withAlias("m"),
  Flag.withMetavar("NAME"),
  Flag.withDescription("Model by display name, model id, or droid's custom:<name> id (default: the first configured)"),
  Flag.optional
)

export const sessionFlag = Flag.String("session").pipe(
  Flag.withAlias("s"),
  Flag.withMetavar("ID"),
  Flag.withDescription("Continue a saved conversation (an id or its first characters; see byok sessions)"),
  Flag.optional
)

export const continueFlag = Flag.Boolean("continue").pipe(
  Flag.withAlias("c"),
  Flag.withDescription("Continue the most recent conversation"),
  Flag.withDefault(false)
)

export const timeoutFlag = Flag.String("timeout").pipe(
  Flag.withMetavar("SECONDS"),
  Flag.withDescription(
    "How long to wait for the answer to start, and between its pieces (default 120; 600 to start on a local server; env BYOK_TIMEOUT)"
  ),
  Flag.optional
)

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

/** The Config layer for a command's `--config` flag. */
export const configLayer = <I extends { readonly config: Option.Option<string> }>(flags: I) =>
  Config.layer({ explicitFile: Option.getOrUndefined(flags.config) })

/** BYOK_MAX_RETRIES, when it is a whole number; else the SDKs' default of 2. */
export const maxRetriesFromEnv = Effect.map(envVar("BYOK_MAX_RETRIES"), (v) =>
  v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : DEFAULT_MAX_RETRIES)
