import * as FileSystem from "../src/lib/fs.ts"
import { afterAll, describe, expect, test } from "bun:test"
import { ConfigProvider, Effect, Layer, Redacted, Result } from "effect"
import fc from "fast-check"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describeError } from "../src/cli/exit.ts"
import * as Config from "../src/config/config.ts"
import * as Redactor from "../src/lib/redact.ts"
import { noLocalServers } from "./lib/provider.ts"
import type { ConfigError } from "../src/config/errors.ts"

const entry = (over: Record<string, unknown> = {}) => ({
  model_display_name: "Llama [Ollama]",
  model: "llama3.2",
  base_url: "http://localhost:11434/v1",
  api_key: "ollama",
  provider: "generic-chat-completion-api",
  max_tokens: 8192,
  ...over
})

const camel = (over: Record<string, unknown> = {}) => ({
  displayName: "Qwen [OpenRouter]",
  model: "qwen/qwen3-coder",
  baseUrl: "https://openrouter.ai/api/v1/",
  apiKey: "${OPENROUTER_KEY}",
  provider: "generic-chat-completion-api",
  maxOutputTokens: 16384,
  ...over
})

interface Setup {
  readonly config?: unknown
  readonly settings?: unknown
  readonly own?: unknown
  readonly explicit?: string
  readonly env?: Record<string, string>
}

// Every HOME of this file in one directory, removed at the end: the property tests make thousands.
const root = mkdtempSync(join(tmpdir(), "byok-config-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Writes the files into a fresh HOME and runs `f` against the Config service there. */
const withConfig = <A, E>(setup: Setup, f: (c: Config.Interface) => Effect.Effect<A, E>) => {
  const home = mkdtempSync(join(root, "home-"))
  mkdirSync(join(home, ".factory"))
  mkdirSync(join(home, ".config", "byok"), { recursive: true })
  const write = (path: string, content: unknown) =>
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2))
  if (setup.config !== undefined) write(join(home, ".factory", "config.json"), setup.config)
  if (setup.settings !== undefined) write(join(home, ".factory", "settings.json"), setup.settings)
  if (setup.own !== undefined) write(join(home, ".config", "byok", "config.json"), setup.own)
  const layer = Config.layer(setup.explicit !== undefined ? { explicitFile: setup.explicit } : {}).pipe(
    Layer.provide(FileSystem.layer),
    Layer.provide(Redactor.layer),
    Layer.provide(noLocalServers),
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ HOME: home, ...setup.env })))
  )
  return Effect.runPromise(
    Effect.gen(function*() {
      const c = yield* Config.ConfigService
      return yield* Effect.result(f(c))
    }).pipe(Effect.provide(layer))
  ).then((r) => ({ home, result: r }))
}

const ok = async <A, E>(setup: Setup, f: (c: Config.Interface) => Effect.Effect<A, E>) => {
  const { result } = await withConfig(setup, f)
  if (Result.isFailure(result)) throw new Error(`expected success, got ${String(result.failure)}`)
  return result.success
}

const fails = async <A, E>(setup: Setup, f: (c: Config.Interface) => Effect.Effect<A, E>) => {
  const { result, home } = await withConfig(setup, f)
  if (Result.isSuccess(result)) throw new Error("expected a failure")
  return { error: result.failure as ConfigError, home }
}

const resolve = (q?: string) => (c: Config.Interface) => c.select({ name: q })
const describeConfigError = (error: unknown) => describeError(error)!

describe("droid config files", () => {
  test("config.json with custom_models works unchanged", async () => {
    const { entry: e, warnings } = await ok({ config: { custom_models: [entry()] } }, resolve())
    expect(e.displayName).toBe("Llama [Ollama]")
    expect(e.model).toBe("llama3.2")
    expect(e.baseUrl).toBe("http://localhost:11434/v1")
    expect(e.provider).toBe("generic-chat-completion-api")
    expect(e.maxOutputTokens).toBe(8192)
    expect(Redacted.value(e.apiKey)).toBe("ollama")
    expect(warnings).toEqual([])
  })

  test("settings.json customModels with ${VAR}, extraArgs and extraHeaders", async () => {
    const { entry: e } = await ok({
      settings: {
        customModels: [camel({ extraArgs: { temperature: 0.2 }, extraHeaders: { "X-Title": "byok" } })]
      },
      env: { OPENROUTER_KEY: "sk-or-test" }
    }, resolve())
    expect(Redacted.value(e.apiKey)).toBe("sk-or-test")
    expect(e.baseUrl).toBe("https://openrouter.ai/api/v1")
    expect(e.extraArgs).toEqual({ temperature: 0.2 })
    expect(e.extraHeaders).toEqual({ "X-Title": "byok" })
    expect(e.maxOutputTokens).toBe(16384)
  })

  test("settings.json wins over config.json for the same display name, and both lists merge", async () => {
    const loaded = await ok({
      config: { custom_models: [entry(), entry({ model_display_name: "Other", model: "other" })] },
      settings: {
        customModels: [camel({ displayName: "Llama [Ollama]", model: "llama3.3", apiKey: "k" })]
      }
    }, (c) => c.load)
    const valid = loaded.entries.map((r) => r.entry!)
    expect(valid.map((e) => [e.displayName, e.model])).toEqual([["Llama [Ollama]", "llama3.3"], ["Other", "other"]])
  })

  test("byok's own file adds models and can set the default", async () => {
    const { entry: e } = await ok({
      config: { custom_models: [entry()] },
      own: { customModels: [camel({ displayName: "Mine", apiKey: "k" })], defaultModel: "Mine" }
    }, resolve())
    expect(e.displayName).toBe("Mine")
  })

  test("--config names one explicit file in either shape", async () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-explicit-"))
    const file = join(dir, "models.json")
    writeFileSync(file, JSON.stringify({ customModels: [camel({ apiKey: "k", displayName: "Only" })] }))
    const { entry: e } = await ok({ config: { custom_models: [entry()] }, explicit: file }, resolve())
    expect(e.displayName).toBe("Only")
  })

  test("--config with a missing file is ConfigNotFound", async () => {
    const { error } = await fails({ explicit: "/nonexistent/byok.json" }, resolve())
    expect(error._tag).toBe("ConfigNotFound")
    expect(describeConfigError(error).headline).toContain("/nonexistent/byok.json")
  })
})

describe("validation errors", () => {
  test("broken JSON: path, line, column, the line and a caret", async () => {
    const text = `{\n  "custom_models": [\n    { "model": "x" "base_url": "y" }\n  ]\n}\n`
    const { error, home } = await fails({ config: text }, resolve())
    expect(error._tag).toBe("ConfigParseError")
    const report = describeConfigError(error)
    expect(report.code).toBe(2)
    expect(report.headline).toBe(
      `${home}/.factory/config.json:3:20: invalid JSON: expected "," or "}", found "\\""`
    )
    expect(report.lines).toEqual([`3 |     { "model": "x" "base_url": "y" }`, `  |                    ^`])
  })

  test("trailing commas and comments are named", async () => {
    const trailing = await fails({ config: `{"custom_models": [1,]}` }, resolve())
    expect(describeConfigError(trailing.error).headline).toContain("1:22: invalid JSON: trailing comma")
    const comment = await fails({ config: `{\n // models\n}` }, resolve())
    expect(describeConfigError(comment.error).headline).toContain("2:2: invalid JSON: comment")
  })

  test("a missing field names the field and the entry", async () => {
    const { api_key: _, ...noKey } = entry()
    const { error } = await fails({ config: { custom_models: [noKey] } }, resolve())
    expect(error._tag).toBe("ConfigInvalid")
    expect(describeConfigError(error).lines).toEqual([
      expect.stringContaining(`custom_models[0].api_key ("Llama [Ollama]"): missing required field`)
    ])
  })

  test("an empty api_key is refused", async () => {
    const { error } = await fails({ config: { custom_models: [entry({ api_key: "" })] } }, resolve())
    expect(describeConfigError(error).lines[0]).toContain("custom_models[0].api_key (\"Llama [Ollama]\"): must not be empty")
  })

  test("a misspelt field is suggested", async () => {
    const { base_url: _, ...rest } = entry()
    const { error } = await fails({ config: { custom_models: [{ ...rest, base_uri: "http://x" }] } }, resolve())
    expect(describeConfigError(error).lines[0]).toContain(`found "base_uri": did you mean "base_url"?`)
  })

  test("provider is case-sensitive, with a did-you-mean", async () => {
    const { error } = await fails({ config: { custom_models: [entry({ provider: "Anthropic" })] } }, resolve())
    const line = describeConfigError(error).lines[0]!
    expect(line).toContain(`Invalid provider "Anthropic"`)
    expect(line).toContain(`"anthropic", "openai", "generic-chat-completion-api"`)
    expect(line).toContain(`Did you mean "anthropic"?`)
  })

  test("an unknown provider lists the three", async () => {
    const { error } = await fails({ config: { custom_models: [entry({ provider: "openai-compatible" })] } }, resolve())
    const line = describeConfigError(error).lines[0]!
    expect(line).toContain(`Invalid provider "openai-compatible"`)
    expect(line).toContain(`Did you mean "generic-chat-completion-api"?`)
  })

  test("base_url must be http(s)", async () => {
    for (const bad of ["localhost:11434/v1", "ftp://x", "not a url"]) {
      const { error } = await fails({ config: { custom_models: [entry({ base_url: bad })] } }, resolve())
      expect(describeConfigError(error).lines[0]).toContain("must be an http:// or https:// URL")
    }
  })

  test("max_tokens must be a positive integer", async () => {
    for (const bad of [0, -5, 1.5, "8192", true]) {
      const { error } = await fails({ config: { custom_models: [entry({ max_tokens: bad })] } }, resolve())
      expect(describeConfigError(error).lines[0]).toMatch(/max_tokens \("Llama \[Ollama\]"\): must be a (positive whole )?number/)
    }
  })

  test("cacheTtl / cache_ttl (byok's own field): 5m by default, 1h on request, nothing else", async () => {
    expect((await ok({ config: { custom_models: [entry()] } }, resolve())).entry.cacheTtl).toBe("5m")
    expect((await ok({ config: { custom_models: [entry({ cache_ttl: "1h" })] } }, resolve())).entry.cacheTtl).toBe("1h")
    expect(
      (await ok({ settings: { customModels: [camel({ apiKey: "k", cacheTtl: "1h" })] } }, resolve())).entry.cacheTtl
    ).toBe("1h")
    const { error } = await fails({ config: { custom_models: [entry({ cache_ttl: "2h" })] } }, resolve())
    expect(describeConfigError(error).lines[0]).toContain(`cache_ttl ("Llama [Ollama]"): must be "5m" or "1h"`)
  })

  test("prices: overrides by display name or model id; a bad one is a warning, not an error", async () => {
    const loaded = await ok({
      config: { custom_models: [entry()] },
      own: {
        prices: {
          "Llama [Ollama]": { input: 0.1, output: 0.2 },
          "my-model": { input: 1, output: 2, cacheRead: 0.1 },
          broken: { input: "cheap" }
        }
      }
    }, (c) => c.load)
    expect(loaded.prices["Llama [Ollama]"]).toEqual({ input: 0.1, output: 0.2 })
    expect(loaded.prices["my-model"]).toEqual({ input: 1, output: 2, cacheRead: 0.1 })
    expect(loaded.prices["broken"]).toBeUndefined()
    const warnings = Config.configWarnings(loaded, undefined)
    expect(warnings.join("\n")).toContain(`prices["broken"].input: must be a number of dollars per million tokens`)
    expect(warnings.join("\n")).toContain(`prices["broken"].output: missing required field`)
    const selected = await ok({
      own: { customModels: [camel({ apiKey: "k", displayName: "Llama [Ollama]" })], prices: { "Llama [Ollama]": { input: 0.1, output: 0.2 } } }
    }, resolve("Llama [Ollama]"))
    expect(selected.price).toEqual({ kind: "config", price: { input: 0.1, output: 0.2 } })
  })

  test("19. with --config, prices still come from byok's own file (the --config file's own prices winning); its models do not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-explicit-"))
    const explicit = join(dir, "team.json")
    writeFileSync(explicit, JSON.stringify({
      customModels: [camel({ apiKey: "k", displayName: "Team model", model: "team-model" })],
      prices: { "shared-id": { input: 9, output: 9 } }
    }))
    const selected = await ok({
      explicit,
      own: {
        customModels: [camel({ apiKey: "k", displayName: "Own model" })],
        prices: { "Team model": { input: 0.5, output: 1.5 }, "shared-id": { input: 1, output: 1 } }
      }
    }, (c) => Effect.flatMap(c.load, (loaded) => Effect.map(c.select({ name: "Team model" }), (sel) => ({ loaded, sel }))))
    expect(selected.sel.price).toEqual({ kind: "config", price: { input: 0.5, output: 1.5 } })
    expect(selected.loaded.prices["shared-id"]).toEqual({ input: 9, output: 9 })
    expect(selected.loaded.entries.map((r) => r.name)).toEqual(["Team model"])
  })

  test("an unset ${VAR} is an error naming the variable", async () => {
    const { error } = await fails({ settings: { customModels: [camel()] } }, resolve())
    expect(describeConfigError(error).lines[0]).toContain("customModels[0].apiKey")
    expect(describeConfigError(error).lines[0]).toContain("environment variable OPENROUTER_KEY is not set")
  })

  test("${VAR} is expanded in config.json too, in any string", async () => {
    const { entry: e } = await ok({
      config: { custom_models: [entry({ base_url: "http://${HOST}:11434/v1", api_key: "${KEY}" })] },
      env: { HOST: "127.0.0.1", KEY: "abc" }
    }, resolve())
    expect(e.baseUrl).toBe("http://127.0.0.1:11434/v1")
    expect(Redacted.value(e.apiKey)).toBe("abc")
  })

  test("one bad entry never hides the good ones: it becomes a warning", async () => {
    const { entry: e, warnings } = await ok({
      config: { custom_models: [entry({ model_display_name: "Bad", provider: "claude" }), entry()] }
    }, resolve("Llama [Ollama]"))
    expect(e.displayName).toBe("Llama [Ollama]")
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(`skipping "Bad"`)
    expect(warnings[0]).toContain(`Did you mean "anthropic"?`)
  })

  test("a broken settings.json does not hide config.json's models", async () => {
    const { entry: e, warnings } = await ok({ config: { custom_models: [entry()] }, settings: "{ nope" }, resolve())
    expect(e.displayName).toBe("Llama [Ollama]")
    expect(warnings[0]).toContain("settings.json:1:3")
  })

  test("asking for the bad entry reports its problems", async () => {
    const { error } = await fails({ config: { custom_models: [entry({ api_key: "" }), entry({ model_display_name: "B" })] } }, resolve("Llama [Ollama]"))
    expect(error._tag).toBe("ConfigInvalid")
  })

  test("no files at all: NoModelsConfigured with an example", async () => {
    const { error } = await fails({}, resolve())
    expect(error._tag).toBe("NoModelsConfigured")
    expect(describeConfigError(error).lines.join("\n")).toContain(`"provider": "generic-chat-completion-api"`)
  })

  test("the API key is never in a config error", async () => {
    const canary = "sk-canary-0123456789abcdef"
    const { error } = await fails({ config: { custom_models: [entry({ api_key: canary, provider: "bogus" })] } }, resolve())
    const report = describeConfigError(error)
    expect(JSON.stringify(report)).not.toContain(canary)
    expect(error.message).not.toContain(canary)
  })
})

describe("model selection", () => {
  const two = {
    settings: {
      customModels: [
        camel({ displayName: "GPT-OSS 20B [Ollama]", model: "gpt-oss:20b", apiKey: "k" }),
        camel({ displayName: "Kimi K2", model: "moonshotai/kimi-k2", apiKey: "k" })
      ]
    }
  }
  const pick = async (q: string | undefined, setup: Setup = two) => (await ok(setup, resolve(q))).entry.displayName

  test("by display name, any case", async () => {
    expect(await pick("Kimi K2")).toBe("Kimi K2")
    expect(await pick("kimi k2")).toBe("Kimi K2")
  })
  test("by model id", async () => expect(await pick("moonshotai/kimi-k2")).toBe("Kimi K2"))
  test("by droid's custom:<name> and custom:<name>-<index>", async () => {
    expect(await pick("custom:Kimi K2")).toBe("Kimi K2")
    expect(await pick("custom:Kimi-K2-1")).toBe("Kimi K2")
    expect(await pick("custom:GPT-OSS-20B-[Ollama]-0")).toBe("GPT-OSS 20B [Ollama]")
  })
  test("default: sessionDefaultSettings.model, else the first valid entry", async () => {
    expect(await pick(undefined)).toBe("GPT-OSS 20B [Ollama]")
    expect(
      await pick(undefined, { settings: { ...two.settings, sessionDefaultSettings: { model: "custom:Kimi-K2-1" } } })
    ).toBe("Kimi K2")
  })
  test("a default that is not configured falls back to the first entry, naming the setting and its file", async () => {
    const { home, result } = await withConfig({ own: { customModels: [camel({ apiKey: "k" })], defaultModel: "gone" } }, resolve())
    if (Result.isFailure(result)) throw result.failure
    expect(result.success.entry.displayName).toBe("Qwen [OpenRouter]")
    expect(result.success.warnings[0]).toBe(
      `default model "gone" (defaultModel in ${home}/.config/byok/config.json) is not configured; using "Qwen [OpenRouter]"`
    )
  })

  test("an unknown name lists the configured ones and suggests the closest", async () => {
    const { error } = await fails(two, resolve("kimi-k3"))
    expect(error._tag).toBe("UnknownModel")
    const report = describeConfigError(error)
    expect(report.code).toBe(2)
    expect(report.headline).toContain(`Unknown model "kimi-k3"`)
    expect(report.lines).toContain("  Kimi K2")
    expect(report.lines).toContain("  GPT-OSS 20B [Ollama]")
  })
})

describe("property: any bytes as a config file", () => {
  test("always a config error or a config, never a crash", async () => {
    const tags = new Set(["ConfigParseError", "ConfigInvalid", "NoModelsConfigured", "ConfigNotFound"])
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ custom_models: [v] })),
          fc.jsonValue().map((v) => JSON.stringify({ customModels: v }))
        ),
        async (text) => {
          const { result } = await withConfig({ config: text }, resolve())
          if (Result.isFailure(result)) {
            expect(tags.has(result.failure._tag)).toBe(true)
            const report = describeConfigError(result.failure)
            expect(report.code).toBe(2)
            expect(report.headline.length).toBeGreaterThan(0)
          }
        }
      ),
      { numRuns: 150 }
    )
  })
})

describe("hostile config files", () => {
  const KEY = "sk-canary-DO-NOT-PRINT-0123456789abcdef"
  const shown = (error: unknown) => {
    const report = describeConfigError(error)
    return [report.headline, ...report.lines].join("\n")
  }

  test("a minified file with a syntax error: the excerpt masks the key and is cut to about 120 columns", async () => {
    const models = Array.from({ length: 30 }, (_, i) => JSON.stringify(entry({ model_display_name: `M${i}`, api_key: KEY })))
    const text = `{"custom_models":[${models.join(",")},]}`
    const { error } = await fails({ config: text }, resolve())
    const out = shown(error)
    expect(out).toContain(`1:${text.length - 1}: invalid JSON: trailing comma`)
    expect(out).not.toContain(KEY)
    const [excerptLine, caretLine] = describeConfigError(error).lines
    expect(excerptLine!.length).toBeLessThan(130)
    // The caret still points at the offending character within the excerpt.
    expect(excerptLine![caretLine!.indexOf("^")]).toBe("]")
  })

  test("an api_key string that is never closed is masked to the end of the line", async () => {
    const { error } = await fails({ config: `{"custom_models": [{"api_key": "${KEY}\n` }, resolve())
    expect(shown(error)).not.toContain(KEY)
    expect(shown(error)).toContain(`"api_key": "****`)
  })

  test("100,000 unclosed [ are reported where the file ends, with a short excerpt, quickly", async () => {
    const text = `{"custom_models": ${"[".repeat(100_000)}`
    const started = Date.now()
    const { error } = await fails({ config: text }, resolve())
    expect(Date.now() - started).toBeLessThan(5000)
    expect(shown(error)).toContain(`1:${text.length + 1}: invalid JSON: expected a value, found end of file`)
    expect(describeConfigError(error).lines[0]!.length).toBeLessThan(130)
  })

  test("a valid file nesting 100,000 arrays under a key byok does not read still gives its models", async () => {
    const text = `{"custom_models": [${JSON.stringify(entry())}], "junk": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`
    const { entry: e } = await ok({ config: text }, resolve())
    expect(e.displayName).toBe("Llama [Ollama]")
  })

  test("an entry nested deeper than any API takes is skipped with an issue, not a crash", async () => {
    const model = JSON.stringify(camel({ apiKey: "k" })).slice(0, -1)
    const deep = `${"[".repeat(100_000)}1${"]".repeat(100_000)}`
    const { error } = await fails({ settings: `{"customModels": [${model}, "extraArgs": {"deep": ${deep}}}]}` }, resolve())
    expect(shown(error)).toContain("nests more than 64 levels deep")
  })

  test("a config file that is a dangling link says where it points", async () => {
    const home = mkdtempSync(join(tmpdir(), "byok-link-"))
    mkdirSync(join(home, ".factory"))
    symlinkSync(join(home, "gone.json"), join(home, ".factory", "config.json"))
    const layer = Config.layer().pipe(
      Layer.provide(FileSystem.layer),
      Layer.provide(Redactor.layer),
      Layer.provide(noLocalServers),
    Layer.provide(noLocalServers),
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ HOME: home })))
    )
    const error = await Effect.runPromise(
      Effect.flip(Effect.gen(function*() { return yield* (yield* Config.ConfigService).select() })).pipe(Effect.provide(layer))
    )
    expect(shown(error)).toContain(`${join(home, ".factory", "config.json")}: it is a link to ${join(home, "gone.json")}, which does not exist`)
  })

  test("property: a key anywhere in a broken or invalid file never reaches the message", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 500 }),
        fc.constantFrom("", ",", "}", "\"", "[", "x", "\n"),
        fc.boolean(),
        async (at, insert, minified) => {
          const good = JSON.stringify(
            { custom_models: [entry({ api_key: KEY }), entry({ model_display_name: "B", api_key: KEY, provider: "bogus" })] },
            null,
            minified ? undefined : 2
          )
          const cut = at % (good.length + 1)
          const text = good.slice(0, cut) + insert + good.slice(cut)
          const { result } = await withConfig({ config: text }, resolve())
          if (Result.isFailure(result)) expect(shown(result.failure).includes(KEY)).toBe(false)
        }
      ),
      { numRuns: 400 }
    )
  })
})

describe("secrets the container way: ${file:PATH}", () => {
  test("a secret file's content, trimmed, in any string field; the file's content never in a message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-secrets-"))
    writeFileSync(join(dir, "key"), "  sk-from-a-secret-file-0123456789\n")
    writeFileSync(join(dir, "url"), "http://localhost:11434/v1\n")
    const { entry: e } = await ok({
      settings: { customModels: [camel({ apiKey: `\${file:${dir}/key}`, baseUrl: `\${file:${dir}/url}` })] }
    }, resolve())
    expect(Redacted.value(e.apiKey)).toBe("sk-from-a-secret-file-0123456789")
    expect(e.baseUrl).toBe("http://localhost:11434/v1")
    expect(e.source.literalKey).toBe(false)
  })

  test("a missing or unreadable secret file is an issue naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-secrets-"))
    const missing = await fails({ settings: { customModels: [camel({ apiKey: `\${file:${dir}/nope}` })] } }, resolve())
    expect(describeConfigError(missing.error).lines[0]).toContain(`customModels[0].apiKey ("Qwen [OpenRouter]"): cannot read the secret file ${dir}/nope: no such file`)
    const notAFile = await fails({ settings: { customModels: [camel({ apiKey: `\${file:${dir}}` })] } }, resolve())
    expect(describeConfigError(notAFile.error).lines[0]).toContain(`cannot read the secret file ${dir}:`)
  })
})

describe("config messages that say exactly what is wrong", () => {
  test("an unset ${VAR} is one problem, not two", async () => {
    const { error } = await fails({ settings: { customModels: [camel()] } }, resolve())
    const report = describeConfigError(error)
    expect(report.headline).toBe("Invalid model entry")
    expect(report.lines).toHaveLength(1)
  })

  test("a variable that is set but empty is said to be empty, not unset", async () => {
    process.env["BYOK_TEST_EMPTY_KEY"] = ""
    try {
      const { error } = await fails({ settings: { customModels: [camel({ apiKey: "${BYOK_TEST_EMPTY_KEY}" })] } }, resolve())
      expect(describeConfigError(error).lines).toEqual([
        expect.stringContaining("environment variable BYOK_TEST_EMPTY_KEY is set but empty")
      ])
    } finally {
      delete process.env["BYOK_TEST_EMPTY_KEY"]
    }
  })

  test("a missing api_key says that local servers accept any text", async () => {
    const { api_key: _, ...noKey } = entry()
    const { error } = await fails({ config: { custom_models: [noKey] } }, resolve())
    expect(describeConfigError(error).lines[0]).toContain(`accept any text, e.g. "ollama"`)
  })

  test("snake_case keys in a camelCase entry get a did-you-mean for every field, displayName and maxOutputTokens too", async () => {
    const { error } = await fails({
      settings: {
        customModels: [{
          model_display_name: "X",
          model: "m",
          base_url: "http://localhost:11434/v1",
          api_key: "k",
          provider: "generic-chat-completion-api",
          max_tokens: 100
        }]
      }
    }, resolve())
    const text = describeConfigError(error).lines.join("\n")
    for (const [found, wanted] of [["model_display_name", "displayName"], ["base_url", "baseUrl"], ["api_key", "apiKey"], ["max_tokens", "maxOutputTokens"]]) {
      expect(text).toContain(`found "${found}": did you mean "${wanted}"? customModels entries are spelled camelCase`)
    }
  })
})

describe("model names", () => {
  const three = {
    settings: {
      customModels: ["Tiny Anthropic", "Tiny Local", "Tiny Responses"].map((displayName) => camel({ displayName, model: "tiny", apiKey: "k" }))
    }
  }
  test("a near miss suggests the display name, not a model id", async () => {
    const { error } = await fails(three, resolve("Tiny Anthropc"))
    expect(describeConfigError(error).headline).toBe(`Unknown model "Tiny Anthropc": did you mean "Tiny Anthropic"?`)
  })
  test("a model id that several entries share is an error that lists them", async () => {
    const { error } = await fails(three, resolve("tiny"))
    expect(describeConfigError(error).code).toBe(2)
    expect(describeConfigError(error).headline).toContain(`"tiny" is the model id of 3 entries`)
    expect(describeConfigError(error).lines).toEqual([`byok -m "Tiny Anthropic"`, `byok -m "Tiny Local"`, `byok -m "Tiny Responses"`])
  })
})
