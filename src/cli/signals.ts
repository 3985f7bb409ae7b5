// Running the program under the signals a terminal, `docker stop` and CI cancellation send. SIGINT, SIGTERM and
// SIGHUP each stop the work as Ctrl-C does (the answer so far stays, the request is recorded, the conversation
// saved), then byok exits with the shell's code for that signal: 130, 143, 129. A second signal while byok is
// finishing up ends it at once.
import { Effect, Exit } from "effect"

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const
type Signal = keyof typeof EXIT_CODES

/** Runs the main program; it sets process.exitCode itself, which a signal's code overrides. */
export const runMain = (program: Effect.Effect<void>) => {
  let received: Signal | undefined
  const fiber = Effect.runFork(program)
  // Fibers waiting on timers or other fibers do not keep the event loop alive by themselves.
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  const onSignal = (signal: Signal) => {
    if (received !== undefined) process.exit(EXIT_CODES[received])
    received = signal
    fiber.interruptUnsafe(fiber.id)
  }
  for (const signal of Object.keys(EXIT_CODES) as Array<Signal>) process.on(signal, () => onSignal(signal))
  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    if (received !== undefined) process.exit(EXIT_CODES[received])
    if (Exit.isFailure(exit) && !process.exitCode) process.exitCode = 1
    // Otherwise the process ends by itself once stdout and stderr are flushed, with the code the program set.
  })
}
