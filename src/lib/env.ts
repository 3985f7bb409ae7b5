// Environment variables through Effect's ConfigProvider (so tests can give their own): one variable, unset or
// unreadable as undefined, and a yes/no flag such as NO_COLOR.
import { Config, ConfigProvider, Effect, Option } from "effect"
import { isSet } from "./flag.ts"

/** A variable read through the given provider (services that read later must capture theirs at make time). */
export const envVarIn = (provider: ConfigProvider.ConfigProvider, name: string) =>
  Effect.orElseSucceed(Config.String(name).pipe(Config.option).parse(provider), () => Option.none<string>()).pipe(
    Effect.map(Option.getOrUndefined)
  )

/** A variable read through the current provider. */
export const envVar = (name: string) => Effect.flatMap(ConfigProvider.ConfigProvider, (p) => envVarIn(p, name))

/** Set to anything but "" or "0". */
export const envFlag = (name: string) => Effect.map(envVar(name), isSet)
