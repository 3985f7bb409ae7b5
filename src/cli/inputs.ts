// What each command reads from its arguments (effect/cli's flag and argument definitions) and the input its handler
// is given. Apart from commands.ts (the tree, loaded for every run) and from the handlers (each loaded only when its
// command runs), so that both read it and neither imports the other's types back.
import { Argument, Command, Flag } from "effect/cli"
import { autoFlag, configFlag, continueFlag, modelFlag, reasoningEffortFlag, sessionFlag, systemFlag, timeoutFlag } from "./flags.ts"

/** `--fallback-model NAME`, repeatable: models that answer, in order, when the chosen one cannot. */
const fallbackFlag = Flag.String("fallback-model").pipe(
  Flag.withMetavar("NAME"),
  Flag.withDescription("A model that answers when the chosen one cannot (a rate limit, an overload or 5xx, no connection); repeat for more, after the entry's fallbackModels"),
  Flag.atLeast(0)
)

/** A flag that is off unless given. */
const switchFlag = (name: string, description: string) => Flag.Boolean(name).pipe(Flag.withDescription(description), Flag.withDefault(false))

/** `--offline`: contact only loopback and private addresses (lib/offline.ts). */
const offlineFlag = switchFlag("offline", "Contact only loopback and private addresses: a model, MCP server or collector elsewhere is refused before any lookup, and commands get no network (also BYOK_OFFLINE=1, or \"offline\": true in settings.json)")

export const chatFlags = {
  model: modelFlag,
  fallbackModels: fallbackFlag,
  offline: offlineFlag,
  session: sessionFlag,
  continue: continueFlag,
  system: systemFlag,
  reasoningEffort: reasoningEffortFlag,
  auto: autoFlag,
  timeout: timeoutFlag,
  config: configFlag
}

export const chatConfig = {
  ...chatFlags,
  message: Argument.String("message").pipe(
    Argument.withDescription("A first message, sent as the chat starts (byok \"question\" does the same)"),
    Argument.variadic()
  )
}

export const execConfig = {
  prompt: Argument.String("prompt").pipe(
    Argument.withDescription("The prompt (several words are joined). Stdin, when piped, is read too: alone, or as context before the prompt"),
    Argument.variadic()
  ),
  model: modelFlag,
  system: systemFlag,
  reasoningEffort: reasoningEffortFlag,
  maxTokens: Flag.Int("max-tokens").pipe(
    Flag.withMetavar("N"),
    Flag.withDescription("Most output tokens for this answer (default: the model's max_tokens)"),
    Flag.optional
  ),
  output: Flag.Literals("output-format", ["text", "json", "stream-json"]).pipe(
    Flag.withAlias("o"),
    Flag.withDescription("text: the answer as it streams; json: one result object with usage and cost; stream-json: one JSON line per event, then the result"),
    Flag.withDefault("text" as const)
  ),
  input: Flag.Literals("input-format", ["text", "stream-json"]).pipe(
    Flag.withDescription("stream-json: each stdin line is a user message ({\"type\":\"user\",\"message\":{\"content\":\"…\"}}) of one conversation; one result line per message"),
    Flag.withDefault("text" as const)
  ),
  fallbackModels: fallbackFlag,
  offline: offlineFlag,
  auto: autoFlag.pipe(
    Flag.withDescription("Let the model act with byok's tools (Read, LS, Glob, Grep, Create, Edit, ApplyPatch, Execute) at this autonomy level: off reads only, low edits files and runs low-risk commands, medium reversible workspace changes, high anything not blocked")
  ),
  maxTurns: Flag.Int("max-turns").pipe(
    Flag.withMetavar("N"),
    Flag.withDescription("With --auto: the most requests of the loop (default 50)"),
    Flag.optional
  ),
  skipPermissionsUnsafe: switchFlag("skip-permissions-unsafe", "With --auto: run every tool call the model asks for, whatever its risk (denylisted and blocked commands still never run)"),
  resources: Flag.String("resource").pipe(
    Flag.withMetavar("SERVER:URI"),
    Flag.withDescription("Attach an MCP server's resource to the prompt, as context before it (byok mcp get SERVER lists them); repeat for more"),
    Flag.atLeast(0)
  ),
  mcpAcceptDefaults: switchFlag("mcp-accept-defaults", "With --auto: answer an MCP server's question (elicitation) with its form's defaults; without it, exec declines and says so"),
  images: Flag.String("image").pipe(
    Flag.withAlias("i"),
    Flag.withMetavar("FILE"),
    Flag.withDescription("Attach an image (PNG, JPEG, GIF, WebP) to the prompt; repeat for more"),
    Flag.atLeast(0)
  ),
  tools: Flag.String("tools").pipe(
    Flag.withMetavar("FILE"),
    Flag.withDescription("A JSON file of tool definitions the model may call (OpenAI's or Anthropic's shape); byok runs none: the calls are printed"),
    Flag.optional
  ),
  toolChoice: Flag.String("tool-choice").pipe(
    Flag.withMetavar("auto|none|required|NAME"),
    Flag.withDescription("With --tools: may the model call a tool (auto, the default), must it (required, or a tool's NAME), or not (none)"),
    Flag.optional
  ),
  maxRetries: Flag.Int("max-retries").pipe(
    Flag.withMetavar("N"),
    Flag.withDescription("Tries again after a rate limit, an overload or a dropped connection, before any output (default 2; env BYOK_MAX_RETRIES)"),
    Flag.optional
  ),
  timeout: timeoutFlag,
  session: sessionFlag,
  continue: continueFlag,
  config: configFlag
}

export const modelsConfig = {
  json: switchFlag("json", "Print a JSON array instead of a table"),
  discover: switchFlag("discover", "Also list the models of local servers listening now (Ollama, llama.cpp, LM Studio, vLLM on their default ports)"),
  save: switchFlag("save", "With --discover: add the models found to byok's own config file"),
  config: configFlag
}

export const costConfig = {
  since: Flag.String("since").pipe(
    Flag.withMetavar("WHEN"),
    Flag.withDescription("Only requests since then: 24h, 7d, 2w, today, yesterday, or a date like 2026-11-01"),
    Flag.optional
  ),
  model: Flag.String("model").pipe(
    Flag.withAlias("m"),
    Flag.withMetavar("NAME"),
    Flag.withDescription("Only this model (display name or model id)"),
    Flag.optional
  ),
  limit: Flag.Int("limit").pipe(
    Flag.withMetavar("N"),
    Flag.withDescription("Most recent days and conversations shown (also with --json)"),
    Flag.withDefault(10)
  ),
  json: switchFlag("json", "Print the totals as JSON")
}

export const sessionsConfig = {
  limit: Flag.Int("limit").pipe(Flag.withMetavar("N"), Flag.withDescription("How many to list"), Flag.withDefault(20)),
  json: switchFlag("json", "Print a JSON array")
}

export const doctorConfig = {
  model: modelFlag,
  timeout: timeoutFlag,
  json: switchFlag("json", "Print the checks as JSON"),
  cache: switchFlag("cache", "Also send a long prompt twice and check that the second reads the cache (costs a little)"),
  offline: switchFlag("offline", "List what offline mode would refuse (models, MCP servers, collectors, proxies), and check the rest as it would run"),
  config: configFlag
}

export const trustConfig = {
  dir: Argument.String("dir").pipe(
    Argument.withDescription("The project directory (default: the project the working directory is in, else its repository's root)"),
    Argument.variadic()
  ),
  list: switchFlag("list", "List the trusted directories"),
  revoke: switchFlag("revoke", "Take the trust back")
}

/** What each command's implementation is given. */
export type ChatInput = Command.Command.Config.Infer<typeof chatFlags> & {
  /** `byok "question"`: the first message, sent as soon as the chat starts. */
  readonly message?: ReadonlyArray<string>
}
export type ExecInput = Command.Command.Config.Infer<typeof execConfig>
export type ModelsInput = Command.Command.Config.Infer<typeof modelsConfig>
export type CostInput = Command.Command.Config.Infer<typeof costConfig>
export type SessionsInput = Command.Command.Config.Infer<typeof sessionsConfig>
export type DoctorInput = Command.Command.Config.Infer<typeof doctorConfig>
export type TrustInput = Command.Command.Config.Infer<typeof trustConfig>

export const mcpNameArg = Argument.String("name").pipe(Argument.withDescription("The server's name in mcp.json"))
export const mcpGetConfig = { name: mcpNameArg, config: configFlag }
export const mcpAddConfig = {
  name: mcpNameArg,
  target: Argument.String("command-or-url").pipe(
    Argument.withDescription("The program to run (stdio; its arguments follow, after --), or the server's URL (--type http or sse)"),
    Argument.variadic()
  ),
  type: Flag.String("type").pipe(Flag.withMetavar("stdio|http|sse"), Flag.withDescription("The transport (default: stdio, or http for a URL)"), Flag.optional),
  env: Flag.KeyValuePair("env").pipe(Flag.withAlias("e"), Flag.withDescription("An environment variable for a stdio server, KEY=VALUE (repeatable; write ${VAR} to pass one of yours)"), Flag.optional),
  header: Flag.String("header").pipe(Flag.withMetavar("\"NAME: VALUE\""), Flag.withDescription("An HTTP header for an http or sse server (repeatable)"), Flag.atLeast(0))
}
export const mcpRemoveConfig = { name: mcpNameArg }
export type McpGetInput = Command.Command.Config.Infer<typeof mcpGetConfig>
export type McpAddInput = Command.Command.Config.Infer<typeof mcpAddConfig>
export type McpRemoveInput = Command.Command.Config.Infer<typeof mcpRemoveConfig>
