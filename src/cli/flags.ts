// Flags shared by several commands: definitions only (what they mean at run time is in services.ts), so that the
// command tree loads nothing else.
import { Flag } from "effect/cli"

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

export const systemFlag = Flag.String("system").pipe(
  Flag.withMetavar("TEXT"),
  Flag.withDescription("System prompt"),
  Flag.optional
)

export const timeoutFlag = Flag.String("timeout").pipe(
  Flag.withMetavar("SECONDS"),
  Flag.withDescription(
    "How long to wait for the answer to start, and between its pieces (default 120; 600 to start on a local server; env BYOK_TIMEOUT)"
  ),
  Flag.optional
)

export const reasoningEffortFlag = Flag.String("reasoning-effort").pipe(
  Flag.withAlias("r"),
  Flag.withMetavar("off|none|low|medium|high"),
  Flag.withDescription("How hard the model thinks (default: the model's reasoningEffort, else its own default)"),
  Flag.optional
)

export const autoFlag = Flag.String("auto").pipe(
  Flag.withMetavar("off|low|medium|high"),
  Flag.withDescription("Let the model act with byok's tools at this autonomy level (see README: The model acts)"),
  Flag.optional
)
