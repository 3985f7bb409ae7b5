// Execute: a shell command in the working directory, in a process group of its own (so that a timeout or Ctrl-C
// stops everything it started), with a time limit and its output kept as head and tail with the cut said. Its
// risk is the command's (risk.ts); it runs in the level's sandbox (sandbox/) with the scrubbed environment, and
// below high the workspace's protected places are put back after it, the model told of what was undone.
import { spawn } from "node:child_process"
import { Effect } from "effect"
import { protectedPlaces, restore, snapshot } from "../sandbox/protect.ts"
import { refusalNote } from "../sandbox/sandbox.ts"
import { classifyCommand } from "./risk.ts"
import { type BuiltinTool, failed, headAndTail, int, str } from "./tool.ts"

const DEFAULT_TIMEOUT_S = 120
const MAX_TIMEOUT_S = 600

/** Kills a process group, then, if it is still there a moment later, harder. */
const killGroup = (pid: number) => {
  try {
    process.kill(-pid, "SIGTERM")
  } catch {
    return
  }
  setTimeout(() => {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // gone
    }
  }, 500).unref()
}

export const Execute: BuiltinTool = {
  definition: {
    name: "Execute",
    description: "Run a shell command in the working directory and get its exit code and output (stdout and stderr " +
      "together). Long output is cut in the middle. timeout is in seconds (default 120).",
    parameters: {
      type: "object",
      properties: {
        command: { type: "string", description: "The command line, run by sh" },
        timeout: { type: "number", description: "Seconds before the command is stopped (default 120, at most 600)" }
      },
      required: ["command"]
    }
  },
  readOnly: false,
  risk: (args, ctx) => {
    const command = str(args, "command")
    if (command === undefined) return { risk: "read", why: "no command" }
    return classifyCommand(command, ctx.rules, { cwd: ctx.cwd, home: process.env["HOME"] })
  },
  subject: (args) => str(args, "command") ?? "",
  run: (args, ctx) =>
    Effect.callback<import("./tool.ts").ToolOutcome>((resume) => {
      const command = str(args, "command")
      if (command === undefined || command.trim() === "") return resume(Effect.succeed(failed("command is missing.")))
      const seconds = Math.min(MAX_TIMEOUT_S, Math.max(1, int(args, "timeout") ?? DEFAULT_TIMEOUT_S))
      // Snapshot first: the command may start running as soon as it is spawned.
      const saved = ctx.level !== "high" && ctx.sandbox !== undefined ? snapshot(ctx.cwd, protectedPlaces(ctx.cwd)) : undefined
      const started = performance.now()
      const launch = ctx.sandbox?.spawn(["/bin/sh", "-c", command], ctx.level, ctx.cwd) ??
        { child: spawn("sh", ["-c", command], { cwd: ctx.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] }), policy: undefined }
      if ("refused" in launch) return resume(Effect.succeed(failed(`Not run: ${launch.refused}`, "refused: no sandbox")))
      const child = launch.child
      let output = ""
      let timedOut = false
      const take = (chunk: Buffer) => {
        output += chunk.toString("utf8")
        // Keep memory bounded on a flood: the middle is cut anyway.
        if (output.length > 4_000_000) output = headAndTail(output, 1_000_000)
      }
      child.stdout!.on("data", take)
      child.stderr!.on("data", take)
      const timer = setTimeout(() => {
        timedOut = true
        if (child.pid !== undefined) killGroup(child.pid)
      }, seconds * 1000)
      const abort = () => {
        if (child.pid !== undefined) killGroup(child.pid)
      }
      ctx.signal?.addEventListener("abort", abort)
      child.on("error", (error) => {
        clearTimeout(timer)
        resume(Effect.succeed(failed(`the command could not start: ${error.message}`)))
      })
      child.on("close", (code, signal) => {
        clearTimeout(timer)
        ctx.signal?.removeEventListener("abort", abort)
        const undone = saved !== undefined ? restore(saved) : []
        const notes = [
          ...(undone.length > 0
            ? [`[byok put back what the command changed in the workspace's protected places, which stay as they are below the high autonomy level: ${undone.join(", ")}]`]
            : []),
          ...(launch.policy !== undefined ? [refusalNote(output, launch.policy)].filter((n) => n !== undefined) : [])
        ]
        const elapsed = `${((performance.now() - started) / 1000).toFixed(1)} s`
        const body = headAndTail(output.replace(/\s+$/, ""))
        const status = timedOut
          ? `[stopped after ${seconds} s: the time limit; give a larger timeout if it needs longer]`
          : signal !== null
          ? `[stopped by ${signal}]`
          : `[exit code ${code}]`
        const tail = output.replace(/\s+$/, "").split("\n").slice(-5).join("\n")
        resume(Effect.succeed({
          output: [body === "" ? "(no output)" : body, status, ...notes].join("\n"),
          isError: timedOut || signal !== null || code !== 0,
          summary: timedOut ? `timed out after ${seconds} s` : `${signal !== null ? `stopped (${signal})` : `exit ${code}`} · ${elapsed}`,
          tail
        }))
      })
      // Interrupted (Ctrl-C on the loop): the whole group goes, and what it printed so far is told.
      return Effect.sync(() => {
        abort()
        clearTimeout(timer)
        const elapsed = ((performance.now() - started) / 1000).toFixed(1)
        ctx.onStopped?.(`${headAndTail(output.replace(/\s+$/, "")) || "(no output)"}\n[stopped by the user after ${elapsed} s]`)
      })
    })
}
