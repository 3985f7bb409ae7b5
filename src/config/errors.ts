// Config errors: the family of failures that come from the user's files and flags, never from a server.
// Every one carries the file path, and the line/column or the field path of what is wrong, so that
// explain/config.ts can print a message that points at the exact place to edit (exit code 2).
import { Schema } from "effect"

/** One problem with one field of one entry, e.g. `custom_models[2].api_key: must not be empty`. */
export interface ConfigIssue {
  readonly file: string
  /** Where in the file: `custom_models[2].api_key`, or `customModels[0]` for the entry as a whole. */
  readonly path: string
  /** The entry's display name when it has one, so a user can find it without counting. */
  readonly entry?: string
  readonly message: string
  /**
   * The issue is an unset or empty environment variable or an unreadable secret file: the entry is fine, the
   * environment this byok runs in lacks something. Said when that model is used, listed or checked; not on every
   * other command.
   */
  readonly environment?: boolean
}

export const ConfigIssueSchema = Schema.Struct({
  file: Schema.String,
  path: Schema.String,
  entry: Schema.optionalKey(Schema.String),
  message: Schema.String,
  environment: Schema.optionalKey(Schema.Boolean)
})

/** `--config FILE` or BYOK_CONFIG named a file that does not exist or cannot be read. */
export class ConfigNotFound extends Schema.TaggedError<ConfigNotFound>()("ConfigNotFound", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `Cannot read config file ${this.path}: ${this.detail}`
  }
}

/** The file is not valid JSON. */
export class ConfigParseError extends Schema.TaggedError<ConfigParseError>()("ConfigParseError", {
  path: Schema.String,
  line: Schema.Number,
  column: Schema.Number,
  /** The broken line around the error, secrets masked (config/json.ts `excerpt`). */
  excerpt: Schema.String,
  /** The error's column within `excerpt`, from 0. */
  caret: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `${this.path}:${this.line}:${this.column}: ${this.detail}`
  }
}

/** The file is JSON, but a field (or the wanted entry) is missing or wrong. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  issues: Schema.Array(ConfigIssueSchema)
}) {
  override get message() {
    return this.issues.map((i) => `${i.file}: ${i.path}: ${i.message}`).join("\n")
  }
}

/** No file defines a single usable model. */
export class NoModelsConfigured extends Schema.TaggedError<NoModelsConfigured>()("NoModelsConfigured", {
  searched: Schema.Array(Schema.String)
}) {
  override get message() {
    return `No models configured (looked in ${this.searched.join(", ")})`
  }
}

/** `-m NAME` matched nothing. */
export class UnknownModel extends Schema.TaggedError<UnknownModel>()("UnknownModel", {
  query: Schema.String,
  available: Schema.Array(Schema.String),
  suggestion: Schema.optionalKey(Schema.String),
  /** The project that defines it, which byok does not read until it is trusted. */
  untrustedProject: Schema.optionalKey(Schema.String)
}) {
  override get message() {
    return `Unknown model "${this.query}"`
  }
}

/** `-m ID` names a model id that several entries share: which one is meant cannot be guessed. */
export class AmbiguousModel extends Schema.TaggedError<AmbiguousModel>()("AmbiguousModel", {
  query: Schema.String,
  matches: Schema.Array(Schema.String)
}) {
  override get message() {
    return `"${this.query}" is the model id of ${this.matches.length} entries`
  }
}

/** A bad flag value or combination that the CLI parser cannot see (e.g. no prompt at all). */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  detail: Schema.String,
  hint: Schema.optionalKey(Schema.String)
}) {
  override get message() {
    return this.detail
  }
}

/** The config family, as a schema: the exit recognises its members by it, so a new member cannot be missed. */
export const ConfigError = Schema.Union([
  ConfigNotFound,
  ConfigParseError,
  ConfigInvalid,
  NoModelsConfigured,
  UnknownModel,
  AmbiguousModel
])
export type ConfigError = typeof ConfigError.Type

export const isConfigError: (u: unknown) => u is ConfigError = Schema.is(ConfigError)
export const isUsageError: (u: unknown) => u is UsageError = Schema.is(UsageError)
