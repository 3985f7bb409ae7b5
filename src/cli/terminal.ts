// The Terminal service effect/cli asks for. byok reads the keyboard itself (chat/tty.ts), and only effect/cli's
// --wizard prompts read through this service; byok refuses --wizard (cli/args.ts), so nothing here reads input.
// Leaving out the Node terminal keeps its readline module from loading on every start (about 1 ms).
import { Effect, Layer, Terminal } from "effect"

const noInput = Effect.die("byok reads no input through effect/cli's terminal")

export const terminalLayer = Layer.succeed(
  Terminal.Terminal,
  Terminal.make({
    columns: Effect.sync(() => process.stdout.columns || 80),
    rows: Effect.sync(() => process.stdout.rows || 24),
    size: noInput,
    readInput: noInput,
    readLine: noInput,
    display: (text) => Effect.sync(() => void process.stdout.write(text))
  })
)
