// Resuming a saved conversation, for the chat and for exec: the -s/--session and -c/--continue flags, the
// session they name, and the model to carry on with.
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { SessionStore, type StoredSession } from "../chat/sessions.ts"
import { ConfigService, findEntry } from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import { describeStoreError } from "./exit.ts"

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

/** The conversation to resume for -s / --continue, or undefined for a new one. */
export const resumeSession = (flags: { readonly session: Option.Option<string>; readonly continue: boolean }) =>
  Effect.gen(function*() {
    const sessions = yield* SessionStore
    if (Option.isSome(flags.session)) {
      const found = yield* sessions.load(flags.session.value).pipe(
        Effect.mapError((e) =>
          e._tag === "AmbiguousSession"
            ? new UsageError({ detail: e.message })
            : new UsageError({ detail: describeStoreError(e, "cannot read saved conversations from") })
        )
      )
      if (found === undefined) {
        return yield* new UsageError({
          detail: `No saved conversation "${flags.session.value}"`,
          hint: "`byok sessions` lists them."
        })
      }
      return found
    }
    if (flags.continue) {
      const found = yield* sessions.latest.pipe(
        Effect.mapError((e) => new UsageError({ detail: describeStoreError(e, "cannot read saved conversations from") }))
      )
      if (found === undefined) {
        return yield* new UsageError({ detail: "No saved conversation to continue", hint: "Start one with `byok`." })
      }
      return found
    }
    return undefined
  })

/** The model to start with: -m, else the model the resumed conversation last used, else the default. */
export const startingModel = (flags: { readonly model: Option.Option<string> }, resumed: StoredSession | undefined) =>
  Effect.gen(function*() {
    const config = yield* ConfigService
    if (Option.isNone(flags.model) && resumed !== undefined) {
      const loaded = yield* config.load
      const previous = findEntry(loaded.entries, resumed.modelName)?.entry
      if (previous !== undefined) return { entry: previous, warnings: [] as ReadonlyArray<string> }
    }
    return yield* config.resolve(Option.getOrUndefined(flags.model))
  })

