// The one exit for text: the process's stdout and stderr, as the Stdio service every command writes through, with
// each piece passed through the redactor. stdout redacts the configured secrets; stderr, which carries server
// error text, also header-shaped secrets. (A secret split across the pieces of a streamed answer is caught
// earlier, where the answer's text is read: conversation/.)
import * as NodeStdio from "@effect/platform-node/NodeStdio"
import { Effect, Layer, Sink, Stdio } from "effect"
import { Redactor } from "../lib/redact.ts"

const through = <E>(sink: Sink.Sink<void, string | Uint8Array, never, E>, redact: (text: string) => string) => {
  const decoder = new TextDecoder()
  return Sink.mapInput(sink, (piece: string | Uint8Array) =>
    redact(typeof piece === "string" ? piece : decoder.decode(piece, { stream: true })))
}

export const layer = Layer.effect(
  Stdio.Stdio,
  Effect.gen(function*() {
    const inner = yield* Stdio.Stdio
    const redactor = yield* Redactor
    return Stdio.make({
      args: inner.args,
      stdin: inner.stdin,
      stdinIsTerminal: inner.stdinIsTerminal,
      stdoutIsTerminal: inner.stdoutIsTerminal,
      stderrIsTerminal: inner.stderrIsTerminal,
      stdout: (options) => through(inner.stdout(options), redactor.redact),
      stderr: (options) => through(inner.stderr(options), redactor.redactDiagnostic)
    })
  })
).pipe(Layer.provide(NodeStdio.layer))
