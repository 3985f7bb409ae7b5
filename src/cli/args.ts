// The command line as people type it, made into what effect/cli parses: `byok help [COMMAND]` and `byok version`;
// `byok "what is 2+2"` (the chat's first message, as droid and Claude Code take it); and the chat's flags written
// before a command (`byok -m NAME exec hi`, `byok --config FILE models`), which go after it when that command
// takes them, or are refused with where to put them.

export const COMMANDS = ["chat", "exec", "models", "cost", "sessions", "doctor"] as const

/** The root's (the chat's) flags, and whether each takes a value. */
const ROOT_FLAGS: Readonly<Record<string, { readonly value: boolean; readonly long: string }>> = {
  "-m": { value: true, long: "--model" },
  "--model": { value: true, long: "--model" },
  "-s": { value: true, long: "--session" },
  "--session": { value: true, long: "--session" },
  "-c": { value: false, long: "--continue" },
  "--continue": { value: false, long: "--continue" },
  "--system": { value: true, long: "--system" },
  "--timeout": { value: true, long: "--timeout" },
  "--config": { value: true, long: "--config" }
}

/** Which of the root's flags each command takes as its own. */
const TAKES: Readonly<Record<(typeof COMMANDS)[number], ReadonlyArray<string>>> = {
  chat: ["--model", "--session", "--continue", "--system", "--timeout", "--config"],
  exec: ["--model", "--session", "--continue", "--system", "--timeout", "--config"],
  models: ["--config"],
  doctor: ["--model", "--config"],
  cost: ["--model"],
  sessions: []
}

export type Normalised =
  | { readonly _tag: "Args"; readonly args: ReadonlyArray<string> }
  | { readonly _tag: "Misplaced"; readonly flag: string; readonly command: string }
  | { readonly _tag: "Unsupported"; readonly flag: string }

/**
 * effect/cli's --wizard, which byok does not offer: its prompts showed blank descriptions, and its terminal (a
 * readline interface) cost every command start-up time even unused.
 */
const UNSUPPORTED = ["--wizard"]

const isCommand = (word: string | undefined): word is (typeof COMMANDS)[number] =>
  word !== undefined && (COMMANDS as ReadonlyArray<string>).includes(word)

export const normaliseArgs = (args: ReadonlyArray<string>): Normalised => {
  const end = args.indexOf("--")
  const unsupported = (end < 0 ? args : args.slice(0, end)).find((arg) => UNSUPPORTED.includes(arg))
  if (unsupported !== undefined) return { _tag: "Unsupported", flag: unsupported }
  if (args[0] === "help") return { _tag: "Args", args: [...args.slice(1, 2), "--help"] }
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
  // Words that are no command: the chat's first message.
  if (word !== undefined && !word.startsWith("-")) return { _tag: "Args", args: ["chat", ...leading, "--", ...args.slice(i)] }
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
