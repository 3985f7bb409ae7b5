// What every run needs, --help included: the platform effect/cli asks for, and the redacting stdio. byok never
// starts a child process nor reads input through effect/cli (both are only for its wizard mode, which byok
// refuses), so stubs stand in for the Node spawner and terminal, whose imports cost start-up time.
import * as NodePath from "@effect/platform-node/NodePath"
import { Effect, Layer } from "effect"
import { ChildProcessSpawner } from "effect/process"
import * as FileSystem from "../lib/fs.ts"
import * as Redactor from "../lib/redact.ts"
import * as RedactingStdio from "./stdio.ts"
import { terminalLayer } from "./terminal.ts"

const NoSpawner = Layer.succeed(
  ChildProcessSpawner.ChildProcessSpawner,
  ChildProcessSpawner.make(() => Effect.die("byok does not start child processes"))
)

export const platformLayer = Layer.mergeAll(FileSystem.layer, NodePath.layer, RedactingStdio.layer, terminalLayer, NoSpawner).pipe(
  Layer.provideMerge(Redactor.layer)
)
