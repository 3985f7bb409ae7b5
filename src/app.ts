// The application: composes the layers and runs the root command (main.ts loads it for everything but
// --version). Every failure is turned into a message and an exit code by cli/exit.ts; nothing else prints errors.
import * as NodePath from "@effect/platform-node/NodePath"
import { Effect, Layer, References, Stdio, Tracer } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { Command } from "effect/cli"
import { FetchHttpClient } from "effect/http"
import { chat, chatFlags, runChat } from "./cli/chat.ts"
import { cost } from "./cli/cost.ts"
import { doctor } from "./cli/doctor.ts"
import { exec } from "./cli/exec.ts"
import { describeCause, EXIT_CODES_HELP, formatReport } from "./cli/exit.ts"
import { normaliseArgs } from "./cli/args.ts"
import { models } from "./cli/models.ts"
import { configLayer } from "./cli/flags.ts"
import { presenterLayer } from "./cli/presenter.ts"
import { terminalLayer } from "./cli/terminal.ts"
import { sessions } from "./cli/sessions.ts"
import { runMain } from "./cli/signals.ts"
import * as RedactingStdio from "./cli/stdio.ts"
import { term, writeErr } from "./cli/term.ts"
import * as SessionStore from "./chat/sessions.ts"
import { UsageError } from "./config/errors.ts"
import * as CostLedger from "./ledger/ledger.ts"
import * as FileSystem from "./lib/fs.ts"
import * as Network from "./lib/network.ts"
import * as Redactor from "./lib/redact.ts"
import * as LocalServers from "./providers/local.ts"
import * as Provider from "./providers/provider.ts"
import { VERSION_LINE } from "./version.ts"

// The platform services effect/cli needs. byok never starts a child process nor reads input through effect/cli
// (both are only for its wizard mode, which byok refuses), so stubs stand in for the Node spawner and terminal,
// whose imports cost start-up time.
const NoSpawner = Layer.succeed(
  ChildProcessSpawner.ChildProcessSpawner,
  ChildProcessSpawner.make(() => Effect.die("byok does not start child processes"))
)

/** What every run needs, --version and --help included: the CLI's platform and the redacting stdio. */
const BaseLayer = Layer.mergeAll(FileSystem.layer, NodePath.layer, RedactingStdio.layer, terminalLayer, NoSpawner).pipe(
  Layer.provideMerge(Redactor.layer)
)

/**
 * What a command's handler needs: the stores, the network and the providers. Built when a handler runs, not for
 * --version, --help or a usage error (building them was about 7 ms of a 30 ms --version: bench/modules.ts).
 */
const ServicesLayer = Layer.mergeAll(CostLedger.layer, SessionStore.layer, Provider.layer, LocalServers.layer).pipe(
  Layer.provideMerge(FetchHttpClient.layer),
  Layer.provideMerge(Network.layer)
)

const withServices = <Name extends string, Input, CI, E, R>(command: Command.Command<Name, Input, CI, E, R>) =>
  Command.provide(command, ServicesLayer)

// `byok` alone is the chat; its flags (-m, -c, -s, --system, --config) are the chat's.
const root = withServices(Command.provide(Command.make("byok", chatFlags, runChat), configLayer)).pipe(
  Command.withDescription(
    "Bring-your-own-key LLM client: chat with any model you have a key or a server for.\n" +
      "  Reads the models of droid's ~/.factory/config.json and settings.json.\n" +
      "  byok help [COMMAND] (or COMMAND --help) for a command's flags; byok version (or --version).\n" +
      EXIT_CODES_HELP
  ),
  Command.withSubcommands([
    withServices(chat),
    withServices(exec),
    withServices(models),
    withServices(cost),
    withServices(sessions),
    withServices(doctor)
  ]),
  Command.withExamples([
    { command: "byok", description: "Chat with the default model (/help inside for commands)" },
    { command: "byok -c", description: "Resume the last conversation" },
    { command: "byok exec \"What is SSE?\"", description: "One answer, streamed to stdout" },
    { command: "byok models", description: "The configured models" },
    { command: "byok doctor", description: "Check every model: network, server, model id, key, stream" },
    { command: "byok cost --since 7d", description: "Tokens, cost, cache hit rate and savings of the last week" }
  ])
)

const program = Effect.gen(function*() {
  const t = yield* term
  const args = normaliseArgs(process.argv.slice(2))
  if (args._tag === "Unsupported") {
    return yield* new UsageError({
      detail: `byok has no ${args.flag}`,
      hint: "byok help lists the commands, and byok help COMMAND a command's flags, with examples."
    })
  }
  if (args._tag === "Misplaced") {
    return yield* new UsageError({
      detail: `byok ${args.command} has no ${args.flag}`,
      hint: `Flags go after the command they belong to: byok ${args.command} --help lists them.`
    })
  }
  return yield* Command.runWith(root, { version: VERSION_LINE })(args.args).pipe(
    Effect.provide(presenterLayer(t.color, yield* Stdio.Stdio))
  )
}).pipe(
  Effect.catchCause((cause) =>
    Effect.gen(function*() {
      const t = yield* term
      const report = describeCause(cause, t.debug)
      if (!report.silent) yield* writeErr(formatReport(report, t.color))
      yield* Effect.sync(() => {
        process.exitCode = report.code
      })
    })
  ),
  Effect.provide(BaseLayer),
  // byok exports no traces: without this, every Effect.fn call and HTTP request builds a span nobody reads (the
  // HTTP client also walks the URL and every header into it).
  Effect.provideService(References.TracerEnabled, false),
  Effect.provideService(Tracer.DisablePropagation, true)
)

runMain(program)
