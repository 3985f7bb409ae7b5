// The sandbox as the tools see it: what runs a command at a level (byok's own executable as the Landlock helper on
// Linux, sandbox-exec on macOS, the bare shell where neither can be had), with the scrubbed environment, and what is
// in force, for /sandbox and the doctor. tools/execute.ts asks it to launch a command and knows no platform.
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Autonomy } from "./levels.ts"
import { profileOf, SANDBOX_EXEC } from "./macos.ts"
import { landlockAbi, type Plan, rulesFor } from "./linux.ts"
import { type Policy, policyFor, SANDBOX_ARG, type SandboxSettings, sandboxed } from "./policy.ts"

/** What the OS offers. */
export interface Status {
  readonly kind: "landlock" | "seatbelt" | "none"
  /** Landlock's ABI (0 where there is none). */
  readonly abi: number
  /** Whether the network is cut with seccomp (Linux) or by the profile (macOS) below medium. */
  readonly network: boolean
  /** Why there is no sandbox, when there is none. */
  readonly why: string | undefined
}

let detected: Promise<Status> | undefined

/** What this system offers; asked once per process. */
export const detect = (): Promise<Status> =>
  detected ??= (async (): Promise<Status> => {
    if (process.platform === "darwin") {
      const exists = await Bun.file(SANDBOX_EXEC).exists()
      return exists
        ? { kind: "seatbelt", abi: 0, network: true, why: undefined }
        : { kind: "none", abi: 0, network: false, why: `${SANDBOX_EXEC} is missing` }
    }
    if (process.platform !== "linux") return { kind: "none", abi: 0, network: false, why: `${process.platform} has no sandbox byok can use` }
    const abi = await landlockAbi()
    return abi > 0
      ? { kind: "landlock", abi, network: true, why: undefined }
      : { kind: "none", abi: 0, network: false, why: "this kernel has no Landlock (Linux 5.13 or later, with landlock among the LSMs)" }
  })()

export type Launch =
  | {
    readonly file: string
    readonly args: ReadonlyArray<string>
    readonly env: Readonly<Record<string, string>>
    /** What the program reads on stdin first: the helper's job (linux.ts's plan, the command), one JSON line. */
    readonly input: string | undefined
    /** The policy in force, when the command is sandboxed. */
    readonly policy: Policy | undefined
  }
  | { readonly refused: string }

export interface Sandbox {
  readonly settings: SandboxSettings
  readonly status: Status
  /** The variables commands get, and the names taken out of byok's own. */
  readonly env: Readonly<Record<string, string>>
  readonly dropped: ReadonlyArray<string>
  /** Where settings.json's `sandbox` came from, for the words. */
  readonly source: string
  readonly policy: (level: Autonomy, cwd: string) => Policy
  /** A secret place: below high no tool reads or writes it. */
  readonly isSecret: (path: string) => boolean
  /** How to run `argv` for a model at a level in a working directory, or why it may not run. */
  readonly launch: (argv: ReadonlyArray<string>, level: Autonomy, cwd: string) => Launch
  /** Runs it: a process of its own group, stdout and stderr piped (a helper started beforehand where one waits). */
  readonly spawn: (argv: ReadonlyArray<string>, level: Autonomy, cwd: string) => Spawned | { readonly refused: string }
  /** What to tell the user once, at a level, when commands run without a sandbox; undefined when they do not. */
  readonly notice: (level: Autonomy) => string | undefined
}

export interface Spawned {
  readonly child: ChildProcess
  readonly policy: Policy | undefined
}

export interface Options {
  readonly settings: SandboxSettings
  readonly source: string
  readonly status: Status
  readonly home: string | undefined
  /** byok's data directory, its own config file, every `${file:…}` the config names. */
  readonly secretFiles: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly dropped: ReadonlyArray<string>
}

/** How long after a command ends the next helper starts: by then the result is on its way to the model. */
const PREPARE_AFTER_MS = 30

/** byok's own executable as the helper: the compiled binary itself, or Bun with enter.ts from source. */
const helper = (): ReadonlyArray<string> =>
  import.meta.dir.startsWith("/$bunfs") || import.meta.dir.startsWith("B:/~BUN")
    ? [process.execPath]
    : [process.execPath, join(import.meta.dir, "enter.ts")]

const realOr = (path: string) => {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

export const make = (options: Options): Sandbox => {
  const { settings, status } = options
  let privateTmp: string | undefined
  /** A TMPDIR of this byok's own, removed when it exits. */
  const tmp = () => {
    if (privateTmp === undefined) {
      privateTmp = realOr(mkdtempSync(join(tmpdir(), "byok-sandbox-")))
      const made = privateTmp
      process.once("exit", () => rmSync(made, { recursive: true, force: true }))
    }
    return privateTmp
  }
  const place = (cwd: string, tmpdirPath: string) => ({
    home: options.home,
    cwd: realOr(cwd),
    secretFiles: options.secretFiles,
    tmpdir: tmpdirPath,
    sharedTmp: realOr(tmpdir())
  })
  const policy = (level: Autonomy, cwd: string) => policyFor(level, settings, place(cwd, privateTmp ?? join(tmpdir(), "byok-sandbox")))
  const secrets = policyFor("off", settings, place("/", "/")).secret.map(realOr)
  const isSecret = (path: string) => {
    const at = realOr(path)
    return secrets.some((s) => at === s || at.startsWith(`${s}/`))
  }
  const plans = new Map<string, Plan>()
  const launch = (argv: ReadonlyArray<string>, level: Autonomy, cwd: string): Launch => {
    if (!sandboxed(level, settings)) return { file: argv[0]!, args: argv.slice(1), env: options.env, input: undefined, policy: undefined }
    if (status.kind === "none") {
      if (settings.offline === true) {
        return {
          refused: `commands do not run here: offline mode is on, and with no sandbox (${status.why}) nothing would keep a command off the network. ` +
            "Tell the user; without offline mode they run as the autonomy level allows."
        }
      }
      if (settings.mode === "required" || settings.mode === "always") {
        return {
          refused: `commands do not run here: ${options.source} says sandbox: "${settings.mode}", and ${status.why}. ` +
            `Tell the user; at --auto high, or with sandbox: "auto", they run unsandboxed.`
        }
      }
      return { file: argv[0]!, args: argv.slice(1), env: options.env, input: undefined, policy: undefined }
    }
    const own = tmp()
    const p = policyFor(level, settings, place(cwd, own))
    const env = { ...options.env, TMPDIR: own }
    if (status.kind === "seatbelt") {
      return { file: SANDBOX_EXEC, args: ["-p", profileOf(p), ...argv], env, input: undefined, policy: p }
    }
    const key = `${level}\0${p.write.join("\0")}`
    let plan = plans.get(key)
    if (plan === undefined) {
      plan = { abi: status.abi, rules: rulesFor(p, status.abi), network: p.network }
      plans.set(key, plan)
    }
    const [exe, ...pre] = helper()
    const input = `${JSON.stringify({ plan, file: argv[0]!, argv })}\n`
    return { file: exe!, args: [...pre, SANDBOX_ARG], env, input, policy: p }
  }
  /** A helper started before it is needed, waiting for its job on stdin (it exits when byok does). */
  let waiting: { readonly child: ChildProcess; readonly key: string } | undefined
  const start = (file: string, args: ReadonlyArray<string>, cwd: string, env: Readonly<Record<string, string>>, input: boolean) =>
    spawn(file, args, { cwd, env, detached: true, stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] })
  const hold = (child: ChildProcess, held: boolean) => {
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void } | null>) {
      if (held) handle?.ref?.()
      else handle?.unref?.()
    }
  }
  const spawnOne = (argv: ReadonlyArray<string>, level: Autonomy, cwd: string): Spawned | { readonly refused: string } => {
    const l = launch(argv, level, cwd)
    if ("refused" in l) return l
    if (l.input === undefined) return { child: start(l.file, l.args, cwd, l.env, false), policy: l.policy }
    const key = `${cwd}\0${l.file}\0${l.args.join("\0")}`
    const ready = waiting !== undefined && waiting.key === key && waiting.child.exitCode === null && waiting.child.signalCode === null
    const child = ready ? waiting!.child : start(l.file, l.args, cwd, l.env, true)
    if (waiting !== undefined && !ready) waiting.child.kill("SIGKILL")
    waiting = undefined
    hold(child, true)
    child.stdin!.end(l.input)
    // The next command's helper starts a little after this one ends: while the model thinks, not while byok sends
    // it this command's result.
    child.once("close", () => {
      setTimeout(() => {
        if (waiting !== undefined) return
        const next = start(l.file, l.args, cwd, l.env, true)
        next.on("error", () => {})
        hold(next, false)
        waiting = { child: next, key }
      }, PREPARE_AFTER_MS).unref()
    })
    return { child, policy: l.policy }
  }
  const notice = (level: Autonomy) =>
    settings.offline === true
      ? status.kind === "none" ? `commands will not run: offline mode is on, and ${status.why}` : undefined
      : level === "high" && settings.mode !== "always"
      ? undefined
      : settings.mode === "off"
      ? `the sandbox is off (sandbox: "off" in ${options.source}): commands run with your rights, checked by their words only`
      : status.kind === "none"
      ? settings.mode === "auto"
        ? `commands run unsandboxed (${status.why}): byok checks them by their words only`
        : `commands will not run: ${options.source} says sandbox: "${settings.mode}", and ${status.why}`
      : undefined
  return { settings, status, env: options.env, dropped: options.dropped, source: options.source, policy, isSecret, launch, spawn: spawnOne, notice }
}

/** What the sandbox refusing looks like in a command's output, and what a model should be told of it. */
export const refusalNote = (output: string, policy: Policy): string | undefined => {
  const lines: Array<string> = []
  if (/Permission denied|Operation not permitted|Read-only file system|EACCES|EPERM/i.test(output)) {
    lines.push(
      policy.level === "off"
        ? "At autonomy level off the sandbox lets commands write nothing (but /dev/null)."
        : `At autonomy level ${policy.level} the sandbox lets commands write only in the working directory` +
          `${policy.level === "low" ? " and $TMPDIR" : ", $TMPDIR, /tmp and the package managers' caches"}` +
          " (sandboxWritableRoots adds more); .git/config, .git/hooks and .factory stay as they are."
    )
    lines.push("Keys and credentials (~/.factory, ~/.ssh, ~/.aws and the like) cannot be read below high.")
  }
  if (!policy.network && /Could not resolve|Temporary failure in name resolution|Network is unreachable|Address family not supported|socket:|ENETUNREACH|EAI_AGAIN|Connection refused|connect/i.test(output)) {
    lines.push(
      policy.level === "medium" || policy.level === "high"
        ? "Offline mode is on: commands have no network at any level."
        : `At autonomy level ${policy.level} commands have no network; medium allows it.`
    )
  }
  return lines.length === 0 ? undefined : `[If that refusal came from byok's sandbox: ${lines.join(" ")} Do it another way, or tell the user what you need and why.]`
}

/** What is in force at a level, in lines (for /sandbox and the doctor): the OS's means, the roots, the network. */
export const describe = (sandbox: Sandbox, level: Autonomy, cwd: string): ReadonlyArray<string> => {
  const { status, settings } = sandbox
  const home = process.env["HOME"]
  const short = (p: string) => (home !== undefined && p.startsWith(`${home}/`) ? `~/${p.slice(home.length + 1)}` : p)
  const means = status.kind === "landlock"
    ? `Landlock ABI ${status.abi} and seccomp (Linux)`
    : status.kind === "seatbelt"
    ? "Seatbelt, /usr/bin/sandbox-exec (macOS)"
    : `none (${status.why})`
  const lines = [`sandbox: ${means}; setting sandbox: "${settings.mode}" (${sandbox.source})`]
  if (!sandboxed(level, settings) || status.kind === "none") {
    lines.push(
      settings.offline === true
        ? "commands do not run: offline mode is on, and there is no sandbox to keep them off the network"
        : level === "high" && settings.mode !== "always"
        ? `at level high commands run unsandboxed (sandbox: "always" sandboxes them too)`
        : settings.mode === "off"
        ? "commands run unsandboxed: the sandbox is off"
        : settings.mode === "auto"
        ? `commands at level ${level} run unsandboxed, checked by their words only`
        : `commands at level ${level} do not run: there is no sandbox and the setting requires one`
    )
  } else {
    const p = sandbox.policy(level, cwd)
    lines.push(
      `at level ${level}: writes in ${p.write.map(short).join(", ")}`,
      `reads everything but ${p.secret.map(short).join(", ")}`,
      `network: ${p.network ? "allowed" : `none (no socket, not even a local one)${settings.offline === true ? ": offline mode is on" : ""}`}`
    )
  }
  if (level !== "high") lines.push("protected: .git/config, .git/hooks and .factory are put back after each command")
  lines.push(
    `environment: ${Object.keys(sandbox.env).length} variables passed; left out: ${sandbox.dropped.length === 0 ? "none" : sandbox.dropped.join(", ")}` +
      " (shellEnvironment.include passes named ones)"
  )
  return lines
}
