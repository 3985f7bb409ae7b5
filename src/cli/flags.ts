// Flags shared by several commands, and the Config layer they select.
import { Option } from "effect"
import { Flag } from "effect/cli"
import * as Config from "../config/config.ts"

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

/** The Config layer for a command's `--config` flag. */
export const configLayer = <I extends { readonly config: Option.Option<string> }>(flags: I) =>
  Config.layer({ explicitFile: Option.getOrUndefined(flags.config) })
