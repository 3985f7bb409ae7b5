// The Terminal service effect/cli asks for. byok reads the keyboard itself (chat/tty.ts); only effect/cli's
// --wizard prompts read through this service, so the Node terminal (a readline interface on stdin, costly at
// start-up) is created on that first read, never for ordinary commands.
import { Effect, Layer, Terminal } from "effect"

const nodeTerminal = Effect.flatMap(
  Effect.promise(() => import("@effect/platform-node/NodeTerminal")),
  (module) => module.make()
)

export const lazyTerminalLayer = Layer.succeed(
  Terminal.Terminal,
  Terminal.make({
    columns: Effect.sync(() => process.stdout.columns || 80),
    rows: Effect.sync(() => process.stdout.rows || 24),
    size: Effect.flatMap(nodeTerminal, (t) => t.size),
    readInput: Effect.flatMap(nodeTerminal, (t) => t.readInput),
    readLine: Effect.scoped(Effect.flatMap(nodeTerminal, (t) => t.readLine)),
    display: (text) => Effect.sync(() => void process.stdout.write(text))
  })
)
