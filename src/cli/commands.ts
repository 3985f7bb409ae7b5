// byok's commands as effect/cli parses them: names, flags, descriptions, examples. Each handler loads its command's
// implementation (cli/<command>.ts) with a dynamic import when it runs, which the compiled binary keeps as a module
// of its own (build.ts builds with code splitting): `byok exec` never evaluates the chat's modules, and --help or a
// usage error evaluates none of them.
import { Effect } from "effect"
import { Command } from "effect/cli"
import { EXIT_CODES_HELP } from "../explain/codes.ts"
import { configFlag } from "./flags.ts"
import {
  chatConfig,
  chatFlags,
  type ChatInput,
  costConfig,
  doctorConfig,
  execConfig,
  mcpAddConfig,
  mcpGetConfig,
  mcpRemoveConfig,
  modelsConfig,
  sessionsConfig,
  trustConfig
} from "./inputs.ts"

// ---- commands ----------------------------------------------------------------------------------------------------

/** A handler that loads its implementation when it runs. */
const lazily = <M, A, E, R>(load: () => Promise<M>, run: (module: M) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.promise(load), run)

const runChat = (input: ChatInput) => lazily(() => import("./chat.ts"), (m) => m.runChat(input))

const chat = Command.make("chat", chatConfig, runChat).pipe(
  Command.withDescription("Talk with a model: streamed answers, /model to switch, /cost for usage, saved conversations"),
  Command.withExamples([
    { command: "byok", description: "Start a conversation with the default model" },
    { command: "byok -m \"Claude Sonnet\"", description: "… with a given model" },
    { command: "byok -c", description: "Resume the last conversation" },
    { command: "byok -s 3f2a9c", description: "Resume a saved conversation by id" },
    { command: "byok \"what is 2+2?\"", description: "Start with a first message" }
  ])
)

const exec = Command.make("exec", execConfig, (input) => lazily(() => import("./exec.ts"), (m) => m.runExec(input))).pipe(
  Command.withDescription(`Send one prompt and stream the answer to stdout (for scripts and CI)\n${EXIT_CODES_HELP}`),
  Command.withShortDescription("Send one prompt and stream the answer to stdout (for scripts and CI)"),
  Command.withExamples([
    { command: "byok exec \"Explain SSE in one sentence\"", description: "Ask the default model" },
    { command: "byok exec -m \"Llama 3.2 [Ollama]\" hello", description: "Pick a model by display name" },
    { command: "git diff | byok exec \"Write a commit message\"", description: "Stdin is added as context" },
    { command: "byok exec --system \"Answer in French\" --max-tokens 200 bonjour", description: "System prompt and cap" },
    { command: "byok exec -o json \"2+2?\" | jq '{result, total_cost_usd, usage}'", description: "Answer, usage and cost as JSON" },
    { command: "byok exec --continue \"and in Rust?\"", description: "Go on with the last conversation" },
    { command: "byok exec -i screenshot.png \"What is wrong in this dialog?\"", description: "Attach an image" },
    { command: "byok exec --auto low \"Fix the failing test in src/parse.ts\"", description: "Let the model read, edit files and run low-risk commands" },
    { command: "byok exec /code-review main", description: "Run a custom command (~/.factory/commands/code-review.md) headless" },
    { command: "byok exec -m Claude --fallback-model \"Qwen [Ollama]\" \"Summarise the log\"", description: "Another model answers when the first is rate-limited or down" },
    { command: "byok exec --offline -m \"Qwen [Ollama]\" \"Review this diff\"", description: "Contact nothing but loopback and private addresses" },
    { command: "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 byok exec \"hi\"", description: "Send spans and metrics to an OpenTelemetry collector" },
    {
      command: "byok exec --tools tools.json --tool-choice required -o json \"Weather in Paris?\" | jq .tool_calls",
      description: "Offer tools; the calls the model asks for come back as JSON (byok runs none)"
    },
    {
      command: "printf '%s\\n' '{\"type\":\"user\",\"message\":{\"content\":\"hi\"}}' | byok exec --input-format stream-json",
      description: "One JSON message per line in, one result per line out"
    }
  ])
)

const models = Command.make("models", modelsConfig, (input) => lazily(() => import("./models.ts"), (m) => m.runModels(input))).pipe(
  Command.withDescription("List the configured models (* marks the default, + a model found on a local server)"),
  Command.withExamples([
    { command: "byok models", description: "Table of models" },
    { command: "byok models --json | jq -r '.[].displayName'", description: "Names, for scripts" },
    { command: "byok models --discover", description: "Also the models of Ollama, llama.cpp, LM Studio or vLLM running now" },
    { command: "byok models --discover --save", description: "… and keep them in byok's own config file" }
  ])
)

const cost = Command.make("cost", costConfig, (input) => lazily(() => import("./cost.ts"), (m) => m.runCost(input))).pipe(
  Command.withDescription("Show what the requests in the cost ledger cost: by model, day and conversation"),
  Command.withExamples([
    { command: "byok cost", description: "Everything on record" },
    { command: "byok cost --since 7d -m \"Claude Sonnet\"", description: "One model, last week" },
    { command: "byok cost --json | jq .total.cost", description: "Total dollars, for scripts" }
  ])
)

const sessions = Command.make("sessions", sessionsConfig, (input) => lazily(() => import("./sessions.ts"), (m) => m.runSessions(input))).pipe(
  Command.withDescription("List saved conversations (resume one with byok -s ID, or byok exec -s ID)"),
  Command.withExamples([
    { command: "byok sessions", description: "The 20 most recent" },
    { command: "byok sessions --json | jq -r '.[0].id'", description: "The id of the latest, for scripts" }
  ])
)

const doctor = Command.make("doctor", doctorConfig, (input) => lazily(() => import("./doctor.ts"), (m) => m.runDoctor(input))).pipe(
  Command.withDescription(`Check every model (or one): config, network, server, base_url, model id, key, stream, price, context\n${EXIT_CODES_HELP}`),
  Command.withShortDescription("Check every model: config, network, server, base_url, model id, key, stream"),
  Command.withExamples([
    { command: "byok doctor", description: "Check every configured model" },
    { command: "byok doctor -m \"Qwen [Ollama]\"", description: "Check one" },
    { command: "byok doctor --timeout 20", description: "Wait longer for slow servers (default: 3 s per network check, 30 s for the test request)" },
    { command: "byok doctor --cache -m Claude", description: "Also check that prompt caching engages (two small paid requests)" },
    { command: "byok doctor --offline", description: "List what offline mode would refuse, and check the rest" },
    { command: "byok doctor --json | jq '.[] | select(any(.checks[]; .status == \"fail\"))'", description: "The failing models, for scripts" }
  ])
)

const trust = Command.make("trust", trustConfig, (input) => lazily(() => import("./trust.ts"), (m) => m.runTrust(input))).pipe(
  Command.withDescription("Trust a project, so that its own .factory files (settings, commands) take effect; until then byok ignores them"),
  Command.withExamples([
    { command: "byok trust", description: "Trust the project the working directory is in" },
    { command: "byok trust ~/code/app", description: "Trust a given directory" },
    { command: "byok trust --list", description: "The trusted directories" },
    { command: "byok trust --revoke ~/code/app", description: "Take the trust back" }
  ])
)

const mcpList = Command.make("list", { config: configFlag }, (input) => lazily(() => import("./mcp.ts"), (m) => m.runMcpList(input))).pipe(
  Command.withDescription("The MCP servers: where each is from, its state (not started, failed) and how many tools it has")
)
const mcpGet = Command.make("get", mcpGetConfig, (input) => lazily(() => import("./mcp.ts"), (m) => m.runMcpGet(input))).pipe(
  Command.withDescription("Start one server and list its tools, with the risk each has for the autonomy levels")
)
const mcpAdd = Command.make("add", mcpAddConfig, (input) => lazily(() => import("./mcp.ts"), (m) => m.runMcpAdd(input))).pipe(
  Command.withDescription("Add a server to ~/.factory/mcp.json (or replace the one of that name)")
)
const mcpRemove = Command.make("remove", mcpRemoveConfig, (input) => lazily(() => import("./mcp.ts"), (m) => m.runMcpRemove(input))).pipe(
  Command.withDescription("Remove a server from ~/.factory/mcp.json")
)
const mcpLogin = Command.make("login", mcpGetConfig, (input) => lazily(() => import("./mcp.ts"), (m) => m.runMcpLogin(input))).pipe(
  Command.withDescription("Log in to an HTTP server that asks for OAuth: a browser page ($BROWSER, else the system's), then the tokens kept privately")
)
const mcpLogout = Command.make("logout", mcpGetConfig, (input) => lazily(() => import("./mcp.ts"), (m) => m.runMcpLogout(input))).pipe(
  Command.withDescription("Forget a server's OAuth tokens")
)
const mcp = Command.make("mcp", { config: configFlag }, (input) => lazily(() => import("./mcp.ts"), (m) => m.runMcpList(input))).pipe(
  Command.withDescription(
    "MCP servers (~/.factory/mcp.json, and a trusted project's .factory/mcp.json): their tools join byok's when the model acts (--auto)"
  ),
  Command.withSubcommands([mcpList, mcpGet, mcpAdd, mcpRemove, mcpLogin, mcpLogout]),
  Command.withExamples([
    { command: "byok mcp", description: "The servers and their state (byok mcp list does the same)" },
    { command: "byok mcp get github", description: "Start one and list its tools" },
    { command: "byok mcp add fs -- npx -y @modelcontextprotocol/server-filesystem ~/notes", description: "A stdio server" },
    { command: "byok mcp add gh --env GITHUB_TOKEN='${GITHUB_TOKEN}' -- npx -y @modelcontextprotocol/server-github", description: "With a variable of yours" },
    { command: "byok mcp add linear https://mcp.linear.app/mcp --type http --header 'Authorization: Bearer ${LINEAR_TOKEN}'", description: "A Streamable HTTP server" },
    { command: "byok mcp login linear", description: "Log in to a server that asks for OAuth" },
    { command: "byok mcp remove fs", description: "Remove one" }
  ])
)

/** `byok` alone is the chat; its flags (-m, -c, -s, --system, --timeout, --config) are the chat's. */
export const root = Command.make("byok", chatFlags, runChat).pipe(
  Command.withDescription(
    "Bring-your-own-key LLM client: chat with any model you have a key or a server for.\n" +
      "  Reads the models of droid's ~/.factory/config.json and settings.json.\n" +
      "  byok help [COMMAND] (or COMMAND --help) for a command's flags; byok version (or --version).\n" +
      EXIT_CODES_HELP
  ),
  Command.withSubcommands([chat, exec, models, cost, sessions, doctor, trust, mcp]),
  Command.withExamples([
    { command: "byok", description: "Chat with the default model (/help inside for commands)" },
    { command: "byok -c", description: "Resume the last conversation" },
    { command: "byok exec \"What is SSE?\"", description: "One answer, streamed to stdout" },
    { command: "byok models", description: "The configured models" },
    { command: "byok doctor", description: "Check every model: network, server, model id, key, stream" },
    { command: "byok cost --since 7d", description: "Tokens, cost, cache hit rate and savings of the last week" }
  ])
)
