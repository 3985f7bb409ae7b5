// The command line as people type it, made into what effect/cli parses: `byok help [COMMAND]` and `byok version`;
// `byok "what is 2+2"` (the chat's first message, as droid and Claude Code take it); and the chat's flags written
// before a command (`byok -m NAME exec hi`, `byok --config FILE models`), which go after it when that command
// takes them, or are refused with where to put them.

export const COMMANDS = ["chat", "exec", "models", "cost", "sessions", "doctor", "trust", "mcp"] as const

/** The root's (the chat's) flags, and whether each takes a value. */
const ROOT_FLAGS: Readonly<Record<string, { readonly value: boolean; readonly long: string }>> = {
  "-m": { value: true, long: "--model" },
  "--model": { value: true, long: "--model" },
  "-s": { value: true, long: "--session" },
  "--session": { value: true, long: "--session" },
  "-c": { value: false, long: "--continue" },
  "--continue": { value: false, long: "--continue" },
  "--system": { value: true, long: "--system" },
  "-r": { value: true, long: "--reasoning-effort" },
  "--auto": { value: true, long: "--auto" },
  "--reasoning-effort": { value: true, long: "--reasoning-effort" },
  "--timeout": { value: true, long: "--timeout" },
  "--config": { value: true, long: "--config" }
}

/** Which of the root's flags each command takes as its own. */
const TAKES: Readonly<Record<(typeof COMMANDS)[number], ReadonlyArray<string>>> = {
  chat: ["--model", "--session", "--continue", "--system", "--reasoning-effort", "--auto", "--timeout", "--config"],
  exec: ["--model", "--session", "--continue", "--system", "--reasoning-effort", "--auto", "--timeout", "--config"],
  models: ["--config"],
  doctor: ["--model", "--timeout", "--config"],
  cost: ["--model"],
  sessions: [],
  trust: [],
  mcp: ["--config"]
}

export type Normalised =
  | { readonly _tag: "Args"; readonly args: ReadonlyArray<string> }
  /** A first word that is a mistyped command (or `help` of one that does not exist): refused, never sent as a prompt. */
  | { readonly _tag: "Unknown"; readonly word: string; readonly suggestion: string | undefined; readonly help: boolean }
  | { readonly _tag: "Misplaced"; readonly flag: string; readonly command: string }
  | { readonly _tag: "Unsupported"; readonly flag: string }

/**
 * effect/cli's --wizard, which byok does not offer: its prompts showed blank descriptions, and its terminal (a
 * readline interface) cost every command start-up time even unused.
 */
const UNSUPPORTED = ["--wizard"]

/**
 * Optimal string alignment distance (Levenshtein with the swap of two neighbours as one edit: `exce` → `exec`), up
 * to `max`; anything further is max + 1.
 */
const editDistance = (a: string, b: string, max: number): number => {
  if (Math.abs(a.length - b.length) > max) return max + 1
  const d: Array<Array<number>> = Array.from({ length: a.length + 1 }, (_, i) => [i])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/** Words that ask for something byok has under another name. */
const ALIASES: Readonly<Record<string, string>> = {
  completion: "--completions",
  completions: "--completions",
  help: "help",
  version: "version"
}

/**
 * The command a first word was probably meant to be: one edit away with the same first letter (`model`, `doctr`,
 * `exce`), or the start of a command (`doc`, `sess`). A word that begins a real question (`what`, `explain`,
 * `why`) is none of these; the test is deliberately narrow, and `byok chat WORD` or `byok -- WORD` always sends.
 */
export const mistypedCommand = (word: string): string | undefined => {
  const lower = word.toLowerCase()
  if (!/^[a-z][a-z-]*$/.test(lower)) return undefined
  if (ALIASES[lower] !== undefined) return ALIASES[lower]
  for (const command of COMMANDS) {
    if (lower === command) return command
    if (lower.length >= 3 && command.startsWith(lower)) return command
    if (lower[0] === command[0] && editDistance(lower, command, 1) <= 1) return command
  }
  return undefined
}

const isCommand = (word: string | undefined): word is (typeof COMMANDS)[number] =>
  word !== undefined && (COMMANDS as ReadonlyArray<string>).includes(word)

export const normaliseArgs = (args: ReadonlyArray<string>): Normalised => {
  const end = args.indexOf("--")
  const unsupported = (end < 0 ? args : args.slice(0, end)).find((arg) => UNSUPPORTED.includes(arg))
  if (unsupported !== undefined) return { _tag: "Unsupported", flag: unsupported }
  if (args[0] === "help") {
    const named = args[1]
    if (named !== undefined && !isCommand(named)) {
      const guess = mistypedCommand(named)
      return { _tag: "Unknown", word: named, suggestion: guess !== undefined && isCommand(guess) ? guess : undefined, help: true }
    }
    return { _tag: "Args", args: [...args.slice(1, 2), "--help"] }
  }
  if (args[0] === "version" && args.length === 1) return { _tag: "Args", args: ["--version"] }
  // The root's flags up to the first word that is not one of them.
  const leading: Array<string> = []
  let i = 0
  for (; i < args.length; i++) {
    const arg = args[i]!
    const [name] = arg.split("=", 1)
    const spec = ROOT_FLAGS[name!]
    if (spec === undefined) break
    leading.push(arg)
    if (spec.value && !arg.includes("=") && i + 1 < args.length) leading.push(args[++i]!)
  }
  const word = args[i]
  if (isCommand(word)) {
    if (leading.length === 0) return { _tag: "Args", args }
    for (const arg of leading) {
      const spec = ROOT_FLAGS[arg.split("=", 1)[0]!]
      if (spec !== undefined && !TAKES[word].includes(spec.long)) return { _tag: "Misplaced", flag: spec.long, command: word }
    }
    return { _tag: "Args", args: [word, ...leading, ...args.slice(i + 1)] }
  }
  // Words that are no command: the chat's first message, unless the first one is a mistyped command (a prompt
  // sent by mistake costs money). `--` before the words always sends them.
  if (word !== undefined && !word.startsWith("-")) {
    const guess = mistypedCommand(word)
    if (guess !== undefined) return { _tag: "Unknown", word, suggestion: guess, help: false }
  }
  if (word !== undefined && !word.startsWith("-")) return { _tag: "Args", args: ["chat", ...leading, "--", ...args.slice(i)] }
  if (word === "--" && i + 1 < args.length) return { _tag: "Args", args: ["chat", ...leading, "--", ...args.slice(i + 1)] }
  return { _tag: "Args", args }
}

/**
 * The help page a command line asks for, in one of the forms main.ts answers itself (help.ts): byok's own ("")
 * for `--help`, `-h` or `help`; a command's for `help COMMAND`, `COMMAND --help` or `COMMAND -h`. Any other line
 * with --help in it is left to effect/cli.
 */
export const helpAskedFor = (args: ReadonlyArray<string>): string | undefined => {
  const normalised = normaliseArgs(args)
  if (normalised._tag !== "Args") return undefined
  const words = normalised.args
  const last = words.at(-1)
  if (last !== "--help" && last !== "-h") return undefined
  if (words.length === 1) return ""
  return words.length === 2 && isCommand(words[0]) ? words[0] : undefined
}
