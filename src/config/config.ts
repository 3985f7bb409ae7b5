// The Config service: finds the config files, reads and merges them, and resolves the model a command should use.
// Files, lowest priority first: ~/.factory/config.json, ~/.factory/settings.json, byok's own
// ($XDG_CONFIG_HOME/byok/config.json); an entry with the same display name in a later file replaces the earlier one.
// `--config FILE` / BYOK_CONFIG replaces all three with one explicit file.
import { readFileSync } from "node:fs"
import { ConfigProvider, Context, Effect, FileSystem, Layer, Redacted } from "effect"
import { parseEndpoint } from "../lib/net.ts"
import { priceFor, type PriceSource } from "../ledger/cost.ts"
import type { Price } from "../ledger/prices.ts"
import { envVarIn } from "../lib/env.ts"
import { Redactor } from "../lib/redact.ts"
import { type Discovered, LocalServers } from "../providers/local.ts"
import { closest } from "../lib/text.ts"
import {
  type ConfigIssue,
  ConfigInvalid,
  ConfigNotFound,
  ConfigParseError,
  NoModelsConfigured,
  UnknownModel,
  AmbiguousModel
} from "./errors.ts"
import { excerpt, parseJson } from "./json.ts"
import { type Autonomy, AUTONOMY_LEVELS, type CommandRules } from "../sandbox/levels.ts"
import { dataDirectory } from "../lib/sqlite.ts"
import { DEFAULT_SETTINGS as DEFAULT_SANDBOX, SANDBOX_MODES, type SandboxMode, type SandboxSettings, strictness } from "../sandbox/policy.ts"
import { isDirectory, isTrusted, PROJECT_COMMANDS, PROJECT_FILES, PROJECT_MCP, projectOf } from "./trust.ts"
import { existsSync } from "node:fs"
import {
  CamelShape,
  envRefs,
  expandEnv,
  isRecord,
  type ModelEntry,
  type RefValue,
  PROJECT_REF,
  REASONING_EFFORTS,
  type ReasoningEffort,
  reasoningEffortOf,
  SnakeShape,
  UNEXPANDED_KEY,
  validateEntry,
  validatePrice
} from "./schema.ts"

/** One entry as found in a file: usable (`entry`) or not (`issues`), with the name a user would call it by. */
export interface EntryRecord {
  /** The file it is in, and where in it: `custom_models[2]`. */
  readonly file: string
  readonly at: string
  readonly name: string | undefined
  readonly model: string | undefined
  readonly entry: ModelEntry | undefined
  readonly issues: ReadonlyArray<ConfigIssue>
}

export interface LoadedConfig {
  /** All entries after merging, in file order; valid and invalid. */
  readonly entries: ReadonlyArray<EntryRecord>
  /** Files that exist but could not be parsed. */
  readonly broken: ReadonlyArray<ConfigParseError | ConfigNotFound>
  /** settings.json `sessionDefaultSettings.model`, or byok's `defaultModel`, and which of the two it was. */
  readonly defaultModel: { readonly name: string; readonly setting: string } | undefined
  /** Every file looked at, present or not. */
  readonly searched: ReadonlyArray<string>
  /** byok's own file, where `byok models --discover --save` writes; undefined with neither HOME nor XDG_CONFIG_HOME. */
  readonly ownFile: string | undefined
  /** Price overrides from the files' `prices` maps, by display name or model id (later files win). */
  readonly prices: Readonly<Record<string, Price>>
  /** Problems in `prices` entries (those entries are ignored). */
  readonly priceIssues: ReadonlyArray<ConfigIssue>
  /** With no model configured: the local servers found listening, whose models are among `entries`. */
  readonly discovered: ReadonlyArray<Discovered>
  /** settings.json's top-level `reasoningEffort` (the last file that has one): for entries without their own.
   * (A value byok cannot read is said among `priceIssues`, the file-level settings' issues.) */
  readonly reasoningEffort: ReasoningEffort | undefined
  /** droid's `autonomyMode`, as a level: what exec and the chat may do with byok's tools when no flag says. */
  readonly autonomy: Autonomy | undefined
  /** The project the working directory is in, its own files, and whether the user trusts it (config/trust.ts). */
  readonly project: { readonly dir: string; readonly files: ReadonlyArray<string>; readonly trusted: boolean } | undefined
  /** Where custom slash commands are read from, lowest first: ~/.factory/commands, then the trusted project's. */
  readonly commandDirs: ReadonlyArray<{ readonly dir: string; readonly scope: "personal" | "project" }>
  /** The mcp.json files that exist, MCP servers are read from (mcp/config.ts), lowest first: ~/.factory/mcp.json,
   * then the trusted project's. Empty: MCP is not used, and its modules are never loaded. */
  readonly mcpFiles: ReadonlyArray<{ readonly path: string; readonly scope: "personal" | "project" }>
  /** droid's `commandAllowlist` and `commandDenylist`, from every file read. */
  readonly commands: CommandRules
  /** byok's `sandbox` and `sandboxWritableRoots`, and the file the mode came from (sandbox/policy.ts). */
  readonly sandbox: { readonly settings: SandboxSettings; readonly source: string }
  /** `shellEnvironment.include`: variables commands get even when their names look secret (the user's files only). */
  readonly shellInclude: ReadonlyArray<string>
  /** Files that hold secrets, outside the places the sandbox already keeps: the explicit config file, every
   * `${file:…}`, byok's data directory. No command a model runs below high reads them. */
  readonly secretFiles: ReadonlyArray<string>
  /** Every `${VAR}` the config files name: commands never get these variables. */
  readonly referencedVars: ReadonlyArray<string>
  /** settings.json's `autoCompact` (default true): compact a conversation before it overflows the window. */
  readonly autoCompact: boolean
  /** settings.json's `compactionModel`: the display name of the model that writes summaries. */
  readonly compactionModel: string | undefined
  /** settings.json's `telemetry` (the user's files only; `${VAR}` expanded), and the file it came from: where
   * OpenTelemetry goes (telemetry/settings.ts reads it, with the OTEL_* variables over it). */
  readonly telemetry: { readonly value: unknown; readonly file: string } | undefined
  /** settings.json's `offline: true`: byok contacts only loopback and private addresses (lib/offline.ts). A
   * project file may turn it on, never off. */
  readonly offline: { readonly on: boolean; readonly source: string }
  /** settings.json's `offlineHosts`: host names the user says are local, which offline mode may resolve. */
  readonly offlineHosts: ReadonlyArray<string>
}

/** Which model a command asked for. Every way of choosing one goes through `select`. */
export interface ModelQuery {
  /** `-m NAME`: a display name, droid's `custom:` id, or a model id. */
  readonly name?: string | undefined
  /** `/model N`: the Nth usable model, from 1, in the order `byok models` lists them. */
  readonly index?: number | undefined
  /** The display name a saved conversation last used: taken when it is still configured and no name is given. */
  readonly saved?: string | undefined
}

/** The model to use, its price, and problems elsewhere in the config that did not stop it (for stderr). */
export interface Selected {
  readonly entry: ModelEntry
  readonly price: PriceSource
  /** The entry's reasoningEffort, else settings.json's top-level one; undefined when neither says. */
  readonly reasoningEffort: ReasoningEffort | undefined
  readonly warnings: ReadonlyArray<string>
}

export type SelectError =
  | ConfigNotFound
  | ConfigParseError
  | ConfigInvalid
  | NoModelsConfigured
  | UnknownModel
  | AmbiguousModel

export interface Interface {
  /** Reads and merges the config files once; later calls return the same result. */
  readonly load: Effect.Effect<LoadedConfig, ConfigNotFound | ConfigParseError>
  /** The model a query names; with an empty query, the default model. */
  readonly select: (query?: ModelQuery) => Effect.Effect<Selected, SelectError>
}

export class ConfigService extends Context.Service<ConfigService, Interface>()("byok/Config") {}

export interface Options {
  /** An explicit file from `--config`; BYOK_CONFIG is read when this is undefined. */
  readonly explicitFile?: string | undefined
  /** Where the project is looked for (default: the process's working directory). */
  readonly cwd?: string | undefined
}


export const make = Effect.fn("Config.make")(function*(options: Options = {}) {
  const fs = yield* FileSystem.FileSystem
  const redactor = yield* Redactor
  const servers = yield* LocalServers
  // Captured now: `load` runs later, outside the context this layer was built in.
  const provider = yield* ConfigProvider.ConfigProvider
  const envOption = (name: string) => envVarIn(provider, name)
  // No HOME (a container): droid's files are not looked for, rather than at `//.factory`.
  const home = (yield* envOption("HOME"))?.replace(/\/+$/, "") || undefined
  const explicit = options.explicitFile ?? (yield* envOption("BYOK_CONFIG"))
  const xdg = (yield* envOption("XDG_CONFIG_HOME")) ?? (home !== undefined ? `${home}/.config` : undefined)
  const ownFile = xdg !== undefined ? `${xdg}/byok/config.json` : undefined
  // The data directory, where the trust answers are kept.
  const dataDir = yield* dataDirectory
  // A project's own files: read only where the user trusted it; otherwise named once, with how to trust it.
  const projectDir = explicit === undefined ? projectOf(options.cwd ?? process.cwd(), home) : undefined
  const projectFiles = projectDir !== undefined ? PROJECT_FILES.map((f) => `${projectDir}/${f}`).filter((f) => existsSync(f)) : []
  const trusted = projectDir !== undefined && isTrusted(dataDir, projectDir)
  // Its custom slash commands (chat/custom.ts), trusted or not, like its settings.
  const projectCommands = projectDir !== undefined && isDirectory(`${projectDir}/${PROJECT_COMMANDS}`)
    ? `${projectDir}/${PROJECT_COMMANDS}`
    : undefined
  const commandDirs: LoadedConfig["commandDirs"] = [
    ...(home !== undefined ? [{ dir: `${home}/.factory/commands`, scope: "personal" as const }] : []),
    ...(projectCommands !== undefined && trusted ? [{ dir: projectCommands, scope: "project" as const }] : [])
  ]
  // Its MCP servers: programs it would have byok start, so only when trusted.
  const projectMcp = projectDir !== undefined && existsSync(`${projectDir}/${PROJECT_MCP}`) ? `${projectDir}/${PROJECT_MCP}` : undefined
  const mcpFiles: LoadedConfig["mcpFiles"] = [
    ...(home !== undefined && existsSync(`${home}/.factory/mcp.json`) ? [{ path: `${home}/.factory/mcp.json`, scope: "personal" as const }] : []),
    ...(projectMcp !== undefined && trusted ? [{ path: projectMcp, scope: "project" as const }] : [])
  ]

  // With --config (or BYOK_CONFIG) the models come from that file alone, but prices still come from byok's own
  // file too (the hints say to put them there), the explicit file's own "prices" winning.
  const files: ReadonlyArray<{ readonly path: string; readonly required: boolean; readonly pricesOnly?: boolean; readonly project?: boolean }> =
    explicit !== undefined
    ? [...(ownFile !== undefined && ownFile !== explicit ? [{ path: ownFile, required: false, pricesOnly: true }] : []), { path: explicit, required: true }]
    : [
      // droid's layers, lowest first: its legacy file, its settings, its local settings; byok's own; then the
      // project's settings and local settings, when the project is trusted.
      ...(home !== undefined
        ? [
          { path: `${home}/.factory/config.json`, required: false },
          { path: `${home}/.factory/settings.json`, required: false },
          { path: `${home}/.factory/settings.local.json`, required: false }
        ]
        : []),
      ...(ownFile !== undefined ? [{ path: ownFile, required: false }] : []),
      ...(trusted ? projectFiles.map((path) => ({ path, required: false, project: true })) : [])
    ]

  // A link whose target is gone is not an absent file: the user made it, and must hear where it points.
  const danglingLink = (path: string) =>
    fs.readLink(path).pipe(
      Effect.map((target) => new ConfigNotFound({ path, detail: `it is a link to ${target}, which does not exist` })),
      Effect.orElseSucceed(() => undefined)
    )

  /** A `${file:PATH}` secret: the file's content, trimmed, or why it cannot be read (never what it holds). */
  const secretFile = (path: string): Effect.Effect<RefValue> =>
    fs.readFileString(path).pipe(
      Effect.map((text): RefValue => text.trim()),
      Effect.catch((error) =>
        Effect.succeed<RefValue>({
          unreadable: error.reason._tag === "NotFound"
            ? "no such file"
            : error.reason._tag === "PermissionDenied"
            ? "permission denied"
            : error.reason._tag === "BadResource"
            ? "not a regular file"
            : "it cannot be read"
        })
      )
    )

  // One file's text; undefined when it is absent and optional; the failure, as a value, when it cannot be read.
  const readOne = (path: string, required: boolean): Effect.Effect<string | undefined | ConfigNotFound> =>
    fs.readFileString(path).pipe(
      Effect.catch((error) =>
        error.reason._tag === "NotFound"
          ? Effect.map(danglingLink(path), (link) =>
            link ?? (required ? new ConfigNotFound({ path, detail: "no such file" }) : undefined))
          : Effect.succeed(
            new ConfigNotFound({
              path,
              detail: error.reason._tag === "PermissionDenied"
                ? "permission denied"
                : error.reason._tag === "BadResource"
                ? "not a regular file"
                : error.reason.message
            })
          )
      )
    )

  const load: Effect.Effect<LoadedConfig, ConfigNotFound | ConfigParseError> = Effect.gen(function*() {
    const merged = new Map<string, EntryRecord>()
    /** The entries a project's file put in `merged` (a later project file may replace them; no user's entry). */
    const projectKeys = new Set<string>()
    const broken: Array<ConfigParseError | ConfigNotFound> = []
    let defaultModel: LoadedConfig["defaultModel"]
    let reasoningEffort: ReasoningEffort | undefined
    let autonomy: Autonomy | undefined
    const allow: Array<string> = []
    const deny: Array<string> = []
    let sandbox: LoadedConfig["sandbox"] = { settings: DEFAULT_SANDBOX, source: "byok's default" }
    const writableRoots: Array<string> = []
    const shellInclude: Array<string> = []
    const secretFiles: Array<string> = [...(explicit !== undefined ? [explicit] : []), ...(dataDir !== undefined ? [dataDir] : [])]
    const referencedVars = new Set<string>()
    let autoCompact = true
    let compactionModel: string | undefined
    let telemetry: LoadedConfig["telemetry"]
    let offline: LoadedConfig["offline"] = { on: false, source: "byok's default" }
    const offlineHosts: Array<string> = []
    let anonymous = 0
    const prices: Record<string, Price> = {}
    const priceIssues: Array<ConfigIssue> = []
    const readPrices = (path: string, table: Record<string, unknown>) => {
      for (const [key, raw] of Object.entries(table)) {
        const result = validatePrice(raw, path, key)
        if (result.price !== undefined) prices[key] = result.price
        priceIssues.push(...result.issues)
      }
    }
    for (const { path, required, pricesOnly, project } of files) {
      const read = yield* readOne(path, required)
      if (read === undefined) continue
      const root = typeof read === "string" ? parseRoot(path, read) : read
      if (pricesOnly === true) {
        if (root instanceof ConfigNotFound || root instanceof ConfigParseError) {
          priceIssues.push({ file: path, path: "prices", message: `cannot be read: ${root.message}` })
        } else if (isRecord(root["prices"])) {
          readPrices(path, root["prices"])
        }
        continue
      }
      if (root instanceof ConfigNotFound || root instanceof ConfigParseError) {
        // The explicit file must be usable; one of droid's files being broken only costs its own models.
        if (required) return yield* root
        broken.push(root)
        continue
      }
      const env = new Map<string, RefValue>()
      for (const name of envRefs(root)) {
        if (name.startsWith("file:")) secretFiles.push(name.slice("file:".length))
        else referencedVars.add(name)
        // A project file sets its models' base_url itself: no environment value or secret file goes to it.
        if (project === true) {
          env.set(name, { unreadable: PROJECT_REF })
          continue
        }
        if (name.startsWith("file:")) {
          env.set(name, yield* secretFile(name.slice("file:".length)))
          continue
        }
        const value = yield* envOption(name)
        if (value !== undefined) env.set(name, value)
        // The provider reads an empty variable as unset; the user set it, and should hear that it is empty.
        else if (process.env[name] === "") env.set(name, { unreadable: "empty" })
      }
      for (const shape of [SnakeShape, CamelShape]) {
        const list = root[shape.listKey]
        if (list === undefined || list === null) continue
        if (!Array.isArray(list)) {
          const record: EntryRecord = {
            file: path,
            at: shape.listKey,
            name: undefined,
            model: undefined,
            entry: undefined,
            issues: [{ file: path, path: shape.listKey, message: "must be an array of model entries" }]
          }
          merged.set(`#invalid-${anonymous++}`, record)
          continue
        }
        list.forEach((raw, index) => {
          const result = validateEntry(raw, shape, path, index, env)
          for (const secret of result.secrets) redactor.add(secret)
          const rawName = isRecord(raw) ? raw[shape.fields.displayName] : undefined
          const name = typeof rawName === "string" && rawName.trim() !== "" ? rawName : undefined
          const rawModel = isRecord(raw) ? raw[shape.fields.model] : undefined
          const record: EntryRecord = {
            file: path,
            at: `${shape.listKey}[${index}]`,
            name,
            model: typeof rawModel === "string" ? rawModel : undefined,
            entry: result.entry,
            issues: result.issues
          }
          const key = name !== undefined ? `name:${name.toLowerCase()}` : `#invalid-${anonymous++}`
          // A project cannot take over one of your models by naming its own the same (and sending your prompts, or
          // a key of yours it asks for by name, to a server it chose): yours is kept, the project's said to be ignored.
          const mine = merged.get(key)
          if (project === true && mine !== undefined && !projectKeys.has(key)) {
            priceIssues.push({
              file: path,
              path: `${shape.listKey}[${index}]`,
              message: `"${name}" is ignored: ${mine.file} defines a model of that name, and a project's model never replaces yours (give it another name in the project)`
            })
            return
          }
          if (project === true) projectKeys.add(key)
          merged.set(key, record)
        })
      }
      if (isRecord(root["prices"])) readPrices(path, root["prices"])
      // droid's settings.json: the autonomy level, and the commands always allowed and never run.
      const mode = root["autonomyMode"] ?? root["autonomyLevel"]
      if (mode !== undefined && mode !== null) {
        const level = autonomyOf(mode)
        // A project may lower the level, never raise it: what a model may do is the user's to grant.
        if (level !== undefined && project === true) {
          const rank = (l: Autonomy | undefined) => AUTONOMY_LEVELS.indexOf(l ?? "off")
          if (rank(level) < rank(autonomy)) autonomy = level
          else if (rank(level) > rank(autonomy)) {
            priceIssues.push({ file: path, path: "autonomyMode", message: `a project file may lower the autonomy level, not raise it (ignored); set it in ~/.factory/settings.json or pass --auto` })
          }
        } else if (level !== undefined) autonomy = level
        else priceIssues.push({ file: path, path: "autonomyMode", message: `must be one of off, low, medium, high (or auto-low, auto-medium, auto-high), found ${JSON.stringify(mode)} (ignored)` })
      }
      for (const [field, into] of [["commandAllowlist", allow], ["commandDenylist", deny]] as const) {
        const list = root[field]
        if (project === true && field === "commandAllowlist" && Array.isArray(list) && list.length > 0) {
          priceIssues.push({ file: path, path: field, message: "a project file may forbid commands, not allow them (ignored); allow them in ~/.factory/settings.json" })
          continue
        }
        if (Array.isArray(list)) into.push(...list.filter((x): x is string => typeof x === "string" && x.trim() !== ""))
        else if (list !== undefined && list !== null) priceIssues.push({ file: path, path: field, message: "must be a list of commands (ignored)" })
      }
      // byok's sandbox settings: a project may make the sandbox stricter, never looser.
      const sandboxMode = root["sandbox"]
      if (sandboxMode !== undefined && sandboxMode !== null) {
        if (typeof sandboxMode !== "string" || !(SANDBOX_MODES as ReadonlyArray<unknown>).includes(sandboxMode)) {
          priceIssues.push({ file: path, path: "sandbox", message: `must be one of ${SANDBOX_MODES.join(", ")}, found ${JSON.stringify(sandboxMode)} (ignored)` })
        } else if (project === true && strictness(sandboxMode as SandboxMode) < strictness(sandbox.settings.mode)) {
          priceIssues.push({ file: path, path: "sandbox", message: `a project file may make the sandbox stricter, not looser (ignored); set it in ~/.factory/settings.json` })
        } else sandbox = { settings: { ...sandbox.settings, mode: sandboxMode as SandboxMode }, source: path }
      }
      for (const [field, into] of [["sandboxWritableRoots", writableRoots], ["shellEnvironment.include", shellInclude]] as const) {
        const list = field === "shellEnvironment.include" ? (isRecord(root["shellEnvironment"]) ? root["shellEnvironment"]["include"] : undefined) : root[field]
        if (list === undefined || list === null) continue
        if (project === true) priceIssues.push({ file: path, path: field, message: "a project file may not widen what commands reach (ignored); set it in ~/.factory/settings.json" })
        else if (Array.isArray(list) && list.every((x) => typeof x === "string")) into.push(...list)
        else priceIssues.push({ file: path, path: field, message: "must be a list of strings (ignored)" })
      }
      // byok's compaction settings (conversation/compaction.ts).
      const auto = root["autoCompact"]
      if (auto !== undefined && auto !== null) {
        if (typeof auto === "boolean") autoCompact = auto
        else priceIssues.push({ file: path, path: "autoCompact", message: `must be true or false, found ${JSON.stringify(auto)} (ignored)` })
      }
      const writer = root["compactionModel"]
      if (writer !== undefined && writer !== null) {
        if (typeof writer === "string" && writer.trim() !== "") compactionModel = writer.trim()
        else priceIssues.push({ file: path, path: "compactionModel", message: `must be a model's display name, found ${JSON.stringify(writer)} (ignored)` })
      }
      // byok's telemetry: the user's to send, and a project's never (it would choose where usage goes).
      const sent = root["telemetry"]
      if (sent !== undefined && sent !== null) {
        if (project === true) priceIssues.push({ file: path, path: "telemetry", message: "a project file may not send telemetry (ignored); set it in ~/.factory/settings.json" })
        else if (!isRecord(sent)) priceIssues.push({ file: path, path: "telemetry", message: "must be an object such as {\"endpoint\": \"http://127.0.0.1:4318\"} (ignored)" })
        else {
          const expanded = expandEnv(sent, env, "telemetry", (at, _name, why) => priceIssues.push({ file: path, path: at, message: why }))
          if (isRecord(expanded) && isRecord(expanded["headers"])) {
            for (const value of Object.values(expanded["headers"])) if (typeof value === "string") redactor.add(value)
          }
          telemetry = { value: expanded, file: path }
        }
      }
      // Offline mode: any file may turn it on; only the user's may turn it off, and only the user's name hosts.
      const off = root["offline"]
      if (off !== undefined && off !== null) {
        if (typeof off !== "boolean") priceIssues.push({ file: path, path: "offline", message: `must be true or false, found ${JSON.stringify(off)} (ignored)` })
        else if (off) offline = { on: true, source: path }
        else if (project === true && offline.on) priceIssues.push({ file: path, path: "offline", message: "a project file may turn offline mode on, not off (ignored)" })
        else offline = { on: false, source: path }
      }
      const hosts = root["offlineHosts"]
      if (hosts !== undefined && hosts !== null) {
        if (project === true) priceIssues.push({ file: path, path: "offlineHosts", message: "a project file may not say which hosts are local (ignored); set it in ~/.factory/settings.json" })
        else if (Array.isArray(hosts) && hosts.every((h) => typeof h === "string" && h.trim() !== "")) offlineHosts.push(...hosts.map((h) => h.trim().toLowerCase()))
        else priceIssues.push({ file: path, path: "offlineHosts", message: "must be a list of host names (ignored)" })
      }
      // droid's settings.json: the reasoning effort of every model that does not set its own.
      const effort = root["reasoningEffort"]
      if (effort !== undefined && effort !== null) {
        const read = reasoningEffortOf(effort)
        if (read !== undefined) reasoningEffort = read
        else {
          priceIssues.push({
            file: path,
            path: "reasoningEffort",
            message: `must be one of ${REASONING_EFFORTS.join(", ")}, found ${JSON.stringify(effort)} (ignored)`
          })
        }
      }
      const defaults = [
        ["sessionDefaultSettings.model", isRecord(root["sessionDefaultSettings"]) ? root["sessionDefaultSettings"]["model"] : undefined],
        ["defaultModel", root["defaultModel"]]
      ] as const
      for (const [setting, candidate] of defaults) {
        if (typeof candidate === "string" && candidate.trim() !== "") {
          defaultModel = { name: expandEnv(candidate, env, setting, () => {}) as string, setting: `${setting} in ${path}` }
        }
      }
    }
    // No model anywhere and no file that failed: the models of the local servers listening now stand in.
    const found = merged.size === 0 && broken.length === 0 && explicit === undefined ? yield* servers.discover : []
    return {
      entries: [...merged.values(), ...discoveredRecords(found)],
      broken,
      defaultModel,
      searched: files.map((f) => f.path),
      ownFile,
      prices,
      priceIssues,
      discovered: found,
      project: projectDir !== undefined && (projectFiles.length > 0 || projectCommands !== undefined || projectMcp !== undefined)
        ? {
          dir: projectDir,
          files: [...projectFiles, ...(projectMcp !== undefined ? [projectMcp] : []), ...(projectCommands !== undefined ? [projectCommands] : [])],
          trusted
        }
        : undefined,
      commandDirs,
      mcpFiles,
      reasoningEffort,
      autonomy,
      commands: { allow, deny },
      sandbox: { ...sandbox, settings: { ...sandbox.settings, writableRoots } },
      shellInclude,
      secretFiles,
      referencedVars: [...referencedVars],
      autoCompact,
      compactionModel,
      telemetry,
      offline,
      offlineHosts
    }
  })

  const cachedLoad = yield* Effect.cached(load)

  const select = Effect.fn("Config.select")(function*(modelQuery: ModelQuery = {}) {
    const config = yield* cachedLoad
    const { entries, broken } = config

    const pick = (record: EntryRecord) =>
      record.entry !== undefined
        ? Effect.succeed<Selected>({
          entry: record.entry,
          price: priceFor(record.entry, priceOverride(config, record.entry)),
          reasoningEffort: record.entry.reasoningEffort ?? config.reasoningEffort,
          warnings: [
            ...configWarnings(config, record),
            ...unexpandedKeyWarning(record.entry),
            ...(record.file === DISCOVERED_SOURCE
              ? [
                `no models are configured: using "${record.entry.displayName}", found at ${record.entry.baseUrl} ` +
                `(\`byok models --discover --save\` keeps the models found in ${config.ownFile ?? "byok's own config file"})`
              ]
              : [])
          ]
        })
        : Effect.fail(new ConfigInvalid({ issues: record.issues }))

    if (modelQuery.index !== undefined) {
      const record = entries.filter((r) => r.entry !== undefined)[modelQuery.index - 1]
      if (record !== undefined) return yield* pick(record)
      return yield* new UnknownModel({
        query: String(modelQuery.index),
        available: entries.flatMap((r) => (r.entry !== undefined ? [r.entry.displayName] : []))
      })
    }
    const query = modelQuery.name
    if (query === undefined && modelQuery.saved !== undefined) {
      const previous = findEntry(entries, modelQuery.saved)
      if (previous?.entry !== undefined) return yield* pick(previous)
    }

    const wanted = query ?? config.defaultModel?.name
    if (wanted !== undefined) {
      // A model id several entries share names none of them: say which ones, rather than take the first.
      const sharing = entries.filter((r) => r.model === wanted.trim() && r.name !== undefined)
      if (query !== undefined && sharing.length > 1 && !entries.some((r) => r.name?.toLowerCase() === wanted.trim().toLowerCase())) {
        return yield* new AmbiguousModel({ query, matches: sharing.map((r) => r.name!) })
      }
      const found = findEntry(entries, wanted)
      if (found !== undefined) return yield* pick(found)
      if (query !== undefined) {
        const firstBroken = broken[0]
        if (firstBroken !== undefined) return yield* firstBroken
        const names = entries.flatMap((r) => (r.name !== undefined ? [r.name] : []))
        // Display names first: they are what -m is for; a model id only when no name is close.
        const suggestion = closest(query, names) ?? closest(query, entries.flatMap((r) => (r.model ? [r.model] : [])))
        // A model only a project byok does not read yet (untrusted) defines: say so, and how to trust it.
        const project = config.project !== undefined && !config.project.trusted && definesModel(config.project.files, query)
          ? config.project.dir
          : undefined
        return yield* new UnknownModel({ query, available: names, ...(suggestion ? { suggestion } : {}), ...(project ? { untrustedProject: project } : {}) })
      }
    }
    const first = entries.find((r) => r.entry !== undefined)
    if (first !== undefined) {
      const resolved = yield* pick(first)
      return wanted === undefined ? resolved : {
        ...resolved,
        warnings: [
          `default model "${wanted}" (${config.defaultModel?.setting}) is not configured; using "${first.name}"`,
          ...resolved.warnings
        ]
      }
    }
    const firstBroken = broken[0]
    if (firstBroken !== undefined) return yield* firstBroken
    const allIssues = entries.flatMap((r) => r.issues)
    if (allIssues.length > 0) return yield* new ConfigInvalid({ issues: allIssues })
    return yield* new NoModelsConfigured({ searched: config.searched })
  })

  return ConfigService.of({ load: cachedLoad, select })
})

/** A config file's text → its top-level object, or the parse error that says where it is broken. */
const parseRoot = (path: string, text: string): Record<string, unknown> | ConfigParseError => {
  const parsed = parseJson(text)
  if (!parsed.ok) {
    const shown = excerpt(parsed.lineText, parsed.column)
    return new ConfigParseError({
      path,
      line: parsed.line,
      column: parsed.column,
      excerpt: shown.text,
      caret: shown.caret,
      detail: parsed.detail
    })
  }
  if (isRecord(parsed.value)) return parsed.value
  return new ConfigParseError({
    path,
    line: 1,
    column: 1,
    excerpt: excerpt(text.split("\n", 1)[0] ?? "", 1).text,
    caret: 0,
    detail: `expected a JSON object with "custom_models" or "customModels", found ${
      Array.isArray(parsed.value) ? "an array" : JSON.stringify(parsed.value)
    }`
  })
}

/** Whether one of a project's settings files (read only to say so; nothing in it is used) names a model `query`. */
const definesModel = (files: ReadonlyArray<string>, query: string): boolean =>
  files.filter((f) => f.endsWith(".json") && !f.endsWith("mcp.json")).some((file) => {
    try {
      const root: unknown = JSON.parse(readFileSync(file, "utf8"))
      if (!isRecord(root)) return false
      const lists = [root["customModels"], root["custom_models"]].filter(Array.isArray) as Array<Array<unknown>>
      return lists.flat().some((e) => isRecord(e) && [e["displayName"], e["model_display_name"]].some((n) => typeof n === "string" && n.toLowerCase() === query.trim().toLowerCase()))
    } catch {
      return false
    }
  })

/** droid's autonomyMode (or a level's own name) as a level; undefined for anything else. */
export const autonomyOf = (value: unknown): Autonomy | undefined => {
  if (typeof value !== "string") return undefined
  const v = value.trim().toLowerCase().replace(/^auto[-_]/, "")
  if (v === "normal" || v === "off" || v === "read-only" || v === "readonly" || v === "spec") return "off"
  return v === "low" || v === "medium" || v === "high" ? v : undefined
}

/**
 * A key that reads like a variable byok was meant to expand but does not: `$OPENAI_API_KEY` (a shell's form) or
 * `%OPENAI_API_KEY%` (Windows'). byok expands only `${NAME}`, so the text itself would be sent as the key.
 */
export const unexpandedKeyWarning = (entry: ModelEntry): Array<string> => {
  const key = Redacted.value(entry.apiKey).trim()
  const match = UNEXPANDED_KEY.exec(key)
  const name = match?.[1] ?? match?.[2]
  if (name === undefined) return []
  const field = entry.source.path.startsWith("customModels") ? "apiKey" : "api_key"
  return [
    `the ${field} of "${entry.displayName}" in ${entry.source.file} is the text "${key}", which byok sends as it is: ` +
    `to use the environment variable, write "\${${name}}"`
  ]
}

const listed = (items: ReadonlyArray<string>) =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`

/** One line per file that could not be read and per entry that was skipped, for stderr. */
export const configWarnings = (config: LoadedConfig, chosen: EntryRecord | undefined): Array<string> => [
  ...(config.project !== undefined && !config.project.trusted
    ? [
      `ignored this project's ${listed(config.project.files.map((f) => f.slice(config.project!.dir.length + 1)))} ` +
      `(${config.project.dir} is not trusted); to use them: byok trust ${config.project.dir}`
    ]
    : []),
  ...config.broken.map((b) => `${b.message} (models in that file are ignored)`),
  ...config.priceIssues.map((i) => `${i.file}: ${i.path}: ${i.message}${i.path.startsWith("prices") ? " (price override ignored)" : ""}`),
  ...config.entries
    // An entry whose only trouble is the environment (an unset ${VAR}) is said when it is used, not on every run.
    .filter((r) => r !== chosen && r.entry === undefined && r.issues.length > 0 && !r.issues.every((i) => i.environment === true))
    .map((r) => {
      const problems = r.issues.map((i) => `${i.path.slice(r.at.length).replace(/^\./, "") || "entry"}: ${i.message}`)
      return `skipping ${r.name !== undefined ? `"${r.name}"` : r.at} (${r.file} ${r.at}): ${problems.join("; ")}`
    })
]

/** droid's model ids: `custom:<display name>` and `custom:<display name>-<index>`, spaces written as `-`. */
const slug = (s: string) => s.trim().replace(/\s+/g, "-").toLowerCase()

/**
 * Finds an entry by, in order: exact display name, display name ignoring case, droid's `custom:` id, model id.
 */
export const findEntry = (entries: ReadonlyArray<EntryRecord>, query: string): EntryRecord | undefined => {
  const q = query.trim()
  const lower = q.toLowerCase()
  const byName = entries.find((r) => r.name === q) ?? entries.find((r) => r.name?.toLowerCase() === lower)
  if (byName) return byName
  if (lower.startsWith("custom:")) {
    const rest = slug(q.slice("custom:".length))
    const direct = entries.find((r) => r.name !== undefined && slug(r.name) === rest)
    if (direct) return direct
    const indexed = /^(.*)-(\d+)$/.exec(rest)
    if (indexed) {
      const [, name, index] = indexed
      const atIndex = entries[Number(index)]
      if (atIndex?.name !== undefined && slug(atIndex.name) === name) return atIndex
      return entries.find((r) => r.name !== undefined && slug(r.name) === name)
    }
    return undefined
  }
  return entries.find((r) => r.model === q && r.entry !== undefined) ??
    entries.find((r) => r.model === q) ??
    entries.find((r) => r.model?.toLowerCase() === lower)
}

export const layer = (options: Options = {}) => Layer.effect(ConfigService, make(options))

/**
 * Adds models to byok's own file (customModels, camelCase), keeping what is there; models of the same display name
 * are left as they are. Returns how many were added.
 */
export const saveModels = (file: string, entries: ReadonlyArray<ModelEntry>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const existing = yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => "{}"))
    const parsed = parseJson(existing.trim() === "" ? "{}" : existing)
    if (!parsed.ok || !isRecord(parsed.value)) {
      return yield* new ConfigParseError({
        path: file,
        line: parsed.ok ? 1 : parsed.line,
        column: parsed.ok ? 1 : parsed.column,
        excerpt: "",
        caret: 0,
        detail: parsed.ok ? "expected a JSON object" : parsed.detail
      })
    }
    const root = parsed.value
    const list = Array.isArray(root["customModels"]) ? [...root["customModels"]] : []
    const names = new Set(list.flatMap((m) => (isRecord(m) && typeof m["displayName"] === "string" ? [m["displayName"]] : [])))
    const added = entries.filter((e) => !names.has(e.displayName)).map((e) => ({
      displayName: e.displayName,
      model: e.model,
      baseUrl: e.baseUrl,
      apiKey: Redacted.value(e.apiKey),
      provider: e.provider,
      maxOutputTokens: e.maxOutputTokens
    }))
    yield* fs.makeDirectory(file.slice(0, file.lastIndexOf("/")), { recursive: true })
    yield* fs.writeFileString(file, `${JSON.stringify({ ...root, customModels: [...list, ...added] }, null, 2)}\n`)
    return added.length
  })

/** Where a discovered model says it came from, in place of a config file. */
export const DISCOVERED_SOURCE = "(found on a local server)"

/** The models of discovered servers as config entries: `qwen3:4b [Ollama]`, Chat Completions at the server's /v1. */
export const discoveredEntries = (found: ReadonlyArray<Discovered>): ReadonlyArray<ModelEntry> =>
  found.flatMap((d) =>
    d.models.map((model, i): ModelEntry => ({
      displayName: `${model} [${d.server.name}]`,
      model,
      baseUrl: d.baseUrl,
      endpoint: parseEndpoint(d.baseUrl)!,
      apiKey: Redacted.make(d.server.placeholderKey),
      provider: "generic-chat-completion-api",
      maxOutputTokens: discoveredCap(d),
      extraArgs: {},
      extraHeaders: {},
      cacheTtl: "5m",
      source: { file: DISCOVERED_SOURCE, path: `${d.server.name}[${i}]` }
    }))
  )

/** What a discovered model may answer at most; byok's own file can change it once saved. */
const DISCOVERED_MAX_TOKENS = 8192

/**
 * A discovered model's output cap, fitting the context its server serves: a quarter of it, the rest left for the
 * prompt (llama.cpp serving 4,096 tokens gets 1,024, not 8,192, which no prompt could fit beside). Ollama says
 * nothing of a model not yet loaded; its default context is 4,096 on most machines.
 */
export const discoveredCap = (d: Pick<Discovered, "context" | "server">): number => {
  const context = d.context ?? (d.server.kind === "ollama" ? 4096 : undefined)
  if (context === undefined) return DISCOVERED_MAX_TOKENS
  return Math.max(64, Math.min(DISCOVERED_MAX_TOKENS, Math.floor(context / 4)))
}

const discoveredRecords = (found: ReadonlyArray<Discovered>): ReadonlyArray<EntryRecord> =>
  discoveredEntries(found).map((entry) => ({
    file: DISCOVERED_SOURCE,
    at: entry.source.path,
    name: entry.displayName,
    model: entry.model,
    entry,
    issues: []
  }))

/** The usable models, in file order: what `byok models` lists and `/model N` numbers. */
export const usableEntries = (config: LoadedConfig): ReadonlyArray<ModelEntry> =>
  config.entries.flatMap((r) => (r.entry !== undefined ? [r.entry] : []))

/** The user's price override for a model: by display name, then by model id. */
const priceOverride = (config: LoadedConfig, entry: ModelEntry): Price | undefined =>
  config.prices[entry.displayName] ?? config.prices[entry.model]
