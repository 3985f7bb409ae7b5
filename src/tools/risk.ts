// Autonomy levels as droid defines them, and the risk of a shell command, read from its parsed words (never from a
// substring): off allows reading and a short allowlist; low, file edits and low-risk commands; medium, reversible
// workspace changes (installs, local git, builds); high, everything not blocked. Pipes, `&&`, `;`, `$(…)`,
// redirections and sudo each raise a command's risk. droid's commandAllowlist and commandDenylist are honoured:
// a denylisted command never runs.

export type Autonomy = "off" | "low" | "medium" | "high"
export const AUTONOMY_LEVELS: ReadonlyArray<Autonomy> = ["off", "low", "medium", "high"]

/** What running something takes: "read" is allowed at every level; "blocked" at none. */
export type Risk = "read" | "low" | "medium" | "high" | "blocked"

const RANK: Readonly<Record<Risk, number>> = { read: 0, low: 1, medium: 2, high: 3, blocked: 4 }
const LEVEL_RANK: Readonly<Record<Autonomy, number>> = { off: 0, low: 1, medium: 2, high: 3 }

export const maxRisk = (a: Risk, b: Risk): Risk => (RANK[a] >= RANK[b] ? a : b)
const raise = (risk: Risk, to: Risk): Risk => maxRisk(risk, to)

/** Whether a level allows a risk. */
export const allows = (level: Autonomy, risk: Risk): boolean => risk !== "blocked" && RANK[risk] <= LEVEL_RANK[level]

/** The lowest level that allows a risk (undefined for blocked). */
export const levelFor = (risk: Risk): Autonomy | undefined =>
  risk === "blocked" ? undefined : risk === "read" ? "off" : risk

// ---- parsing -------------------------------------------------------------------------------------------------------

export interface ParsedCommand {
  /** Each simple command's words, quotes removed. */
  readonly commands: ReadonlyArray<ReadonlyArray<string>>
  /** The operators between them: |, &&, ||, ;, &. */
  readonly operators: ReadonlyArray<string>
  /** Command substitution ($(…) or backticks). */
  readonly substitution: boolean
  /** Output redirected to a file (>, >>, 2>, &>), other than to /dev/null. */
  readonly redirectsToFile: boolean
  /** Something the parser could not follow (an unclosed quote, a heredoc): treated as high risk. */
  readonly opaque: boolean
}

/** A small shell word splitter: quotes, escapes, operators, substitutions and redirections; no expansion. */
export const parseCommand = (line: string): ParsedCommand => {
  const commands: Array<Array<string>> = []
  const operators: Array<string> = []
  let words: Array<string> = []
  let word = ""
  let inWord = false
  let substitution = false
  let redirectsToFile = false
  let opaque = false
  let redirectNext = false
  const endWord = () => {
    if (!inWord) return
    if (redirectNext) {
      if (word !== "/dev/null") redirectsToFile = true
      redirectNext = false
    } else words.push(word)
    word = ""
    inWord = false
  }
  const endCommand = (op: string | undefined) => {
    endWord()
    if (words.length > 0) commands.push(words)
    words = []
    if (op !== undefined) operators.push(op)
  }
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    const next = line[i + 1]
    if (c === "\\") {
      word += next ?? ""
      inWord = true
      i++
      continue
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) {
        opaque = true
        break
      }
      word += line.slice(i + 1, end)
      inWord = true
      i = end
      continue
    }
    if (c === "\"") {
      let j = i + 1
      for (; j < line.length && line[j] !== "\""; j++) {
        if (line[j] === "\\") j++
        else if (line[j] === "`" || (line[j] === "$" && line[j + 1] === "(")) substitution = true
      }
      if (j >= line.length) {
        opaque = true
        break
      }
      word += line.slice(i + 1, j).replace(/\\(.)/g, "$1")
      inWord = true
      i = j
      continue
    }
    if (c === "`" || (c === "$" && next === "(")) {
      substitution = true
      word += c
      inWord = true
      continue
    }
    if (c === " " || c === "\t") {
      endWord()
      continue
    }
    if (c === "\n" || c === ";") {
      endCommand(";")
      continue
    }
    if (c === "|" || c === "&") {
      if (c === "&" && next === ">") {
        endWord()
        redirectNext = true
        i++
        if (line[i + 1] === ">") i++
        continue
      }
      const op = next === c ? c + c : c
      endCommand(op)
      if (op.length === 2) i++
      continue
    }
    if (c === ">" || c === "<") {
      // "2>&1" and ">&2" point at another stream, not a file.
      const fd = /^\d$/.test(word) && inWord
      if (fd) {
        word = ""
        inWord = false
      } else endWord()
      if (c === "<") {
        if (next === "<") opaque = true // heredoc
        continue
      }
      if (next === ">") i++
      if (line[i + 1] === "&") {
        i++
        while (/\d/.test(line[i + 1] ?? "")) i++
        continue
      }
      redirectNext = true
      continue
    }
    word += c
    inWord = true
  }
  endCommand(undefined)
  if (redirectNext) opaque = true
  return { commands, operators, substitution, redirectsToFile, opaque }
}

// ---- classification -------------------------------------------------------------------------------------------------

/** Commands that only read (allowed at every level, with the flags that would make them write checked apart). */
const READ = new Set([
  "ls", "cat", "head", "tail", "wc", "pwd", "echo", "printf", "grep", "egrep", "fgrep", "rg", "ag", "find", "fd", "which",
  "whereis", "type", "file", "stat", "du", "df", "tree", "sort", "uniq", "cut", "tr", "diff", "cmp", "basename",
  "dirname", "realpath", "readlink", "date", "uname", "whoami", "id", "hostname", "true", "false", "test", "[",
  "less", "more", "column", "nl", "od", "hexdump", "xxd", "md5sum", "sha256sum", "sha1sum", "jq", "yq", "env",
  "printenv", "ps", "uptime", "free", "nproc", "lscpu", "man", "help", "seq", "expr", "sleep", "tac", "rev", "fold",
  "comm", "join", "paste", "strings", "locate", "cal"
])

/** Tools whose version or help only reads. */
const VERSION_ONLY = /^(?:--version|-v|-V|version|--help|-h|help)$/

const GIT_READ = new Set(["status", "log", "diff", "show", "blame", "rev-parse", "ls-files", "grep", "describe", "shortlog", "reflog", "config-get"])
const GIT_MEDIUM = new Set([
  "add", "commit", "checkout", "switch", "restore", "merge", "rebase", "stash", "cherry-pick", "revert", "tag", "init",
  "mv", "rm", "fetch", "pull", "clone", "apply", "am", "worktree", "submodule", "notes"
])
const GIT_HIGH = new Set(["push", "clean", "gc", "prune", "filter-branch", "filter-repo", "update-ref"])

/** Package managers and build tools: what each subcommand does. */
const TEST_WORDS = new Set(["test", "tests", "check", "lint", "typecheck", "fmt", "format", "vet"])
const INSTALL_WORDS = new Set(["install", "i", "ci", "add", "remove", "uninstall", "update", "upgrade", "sync", "get", "rm"])
const BUILD_WORDS = new Set(["build", "run", "exec", "start", "dev", "compile", "bundle", "make", "generate"])
const PACKAGE_TOOLS = new Set(["npm", "pnpm", "yarn", "bun", "deno", "pip", "pip3", "poetry", "uv", "cargo", "go", "gem", "bundle", "composer", "mvn", "gradle", "dotnet"])

/** Commands that are low risk: they write inside the workspace or run its checks. */
const LOW = new Set(["mkdir", "touch", "cp", "mv", "ln", "tsc", "eslint", "prettier", "pytest", "jest", "vitest", "mocha", "black", "ruff", "gofmt", "rustfmt", "shellcheck", "patch"])
/** Medium: reversible workspace changes and builds, or running the project's code. */
const MEDIUM = new Set(["make", "cmake", "ninja", "rm", "rmdir", "chmod", "tar", "unzip", "zip", "gzip", "gunzip", "node", "python", "python3", "ruby", "perl", "php", "tee", "truncate", "xargs", "awk", "sed"])
/** High: outside the workspace, the network, the system, or irreversible. */
const HIGH = new Set([
  "curl", "wget", "ssh", "scp", "rsync", "ftp", "nc", "netcat", "telnet", "docker", "podman", "kubectl", "helm", "terraform",
  "kill", "killall", "pkill", "chown", "systemctl", "service", "crontab", "apt", "apt-get", "yum", "dnf", "brew",
  "pacman", "apk", "snap", "npx", "bunx", "pnpx", "eval", "exec", "source", ".", "bash", "sh", "zsh", "fish", "su",
  "osascript", "open", "xdg-open", "launchctl", "mount", "umount", "iptables", "ufw", "passwd", "useradd", "userdel"
])
/** Never, at any level. */
const BLOCKED_COMMANDS = new Set(["mkfs", "fdisk", "parted", "shutdown", "reboot", "halt", "poweroff", "init", "format"])

/** The risk of one simple command. */
const commandRisk = (words: ReadonlyArray<string>): Risk => {
  let rest = [...words]
  // Leading VAR=value assignments set the environment of the command; they do not change what it does.
  while (rest.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0]!)) rest = rest.slice(1)
  if (rest.length === 0) return "low"
  let risk: Risk = "read"
  // sudo, and wrappers that run the command after them.
  while (["sudo", "doas", "time", "nice", "nohup", "timeout", "command", "stdbuf"].includes(rest[0]!)) {
    if (rest[0] === "sudo" || rest[0] === "doas") risk = raise(risk, "high")
    rest = rest.slice(1)
    if (rest[0] !== undefined && /^\d+[smh]?$/.test(rest[0])) rest = rest.slice(1) // timeout 10 …
    while (rest[0]?.startsWith("-")) rest = rest.slice(1)
  }
  const [name0 = "", ...args] = rest
  const name = name0.replace(/^.*\//, "")
  if (name === "") return risk
  if (BLOCKED_COMMANDS.has(name) || name.startsWith("mkfs.")) return "blocked"
  if (name === "dd" && args.some((a) => /^of=\/dev\//.test(a))) return "blocked"
  if (name === "rm") {
    const recursive = args.some((a) => /^-[a-zA-Z]*[rR]/.test(a) || a === "--recursive")
    const targets = args.filter((a) => !a.startsWith("-"))
    if (recursive && targets.some((t) => t === "/" || t === "/*" || t === "~" || t === "~/" || t === "$HOME" || t === "." || t === ".." || t === "*")) return "blocked"
    return raise(risk, recursive ? "high" : "medium")
  }
  if (name === "chmod" && args.includes("-R") && args.includes("/")) return "blocked"
  if (args.some((a) => VERSION_ONLY.test(a)) && args.length === 1) return raise(risk, "read")
  if (name === "git") {
    const sub = args.find((a) => !a.startsWith("-")) ?? ""
    if (sub === "branch") return raise(risk, args.some((a) => /^-[dDmM]$|^--delete$|^--move$/.test(a)) ? "medium" : args.length > 1 ? "medium" : "read")
    if (sub === "reset") return raise(risk, args.includes("--hard") ? "high" : "medium")
    if (sub === "config") return raise(risk, args.includes("--get") || args.includes("--list") || args.includes("-l") ? "read" : "medium")
    if (sub === "remote") return raise(risk, args.length <= 2 && (args[1] === undefined || args[1] === "-v") ? "read" : "medium")
    if (GIT_READ.has(sub)) return raise(risk, "read")
    if (GIT_MEDIUM.has(sub)) return raise(risk, args.includes("--force") || args.includes("-f") ? "high" : "medium")
    if (GIT_HIGH.has(sub)) return raise(risk, "high")
    return raise(risk, "high")
  }
  if (name === "find") {
    return raise(risk, args.some((a) => a === "-delete" || a === "-exec" || a === "-execdir" || a === "-ok" || a === "-fprint") ? "high" : "read")
  }
  if (name === "sed") return raise(risk, args.some((a) => /^-[a-zA-Z]*i/.test(a) || a.startsWith("--in-place")) ? "medium" : "read")
  if (name === "awk") return raise(risk, args.some((a) => /system\s*\(|>\s*"/.test(a)) ? "high" : "read")
  if (name === "env" || name === "printenv") return raise(risk, args.some((a) => !a.startsWith("-") && !a.includes("=")) ? "medium" : "read")
  if (PACKAGE_TOOLS.has(name)) {
    const sub = args.find((a) => !a.startsWith("-")) ?? ""
    if (name === "npm" || name === "pnpm" || name === "yarn" || name === "bun") {
      if (sub === "run" || sub === "run-script") {
        const script = args[args.indexOf(sub) + 1] ?? ""
        return raise(risk, TEST_WORDS.has(script) || script.startsWith("test") || script.startsWith("lint") ? "low" : "medium")
      }
      if (["publish", "login", "logout", "adduser", "deprecate", "unpublish", "owner", "token"].includes(sub)) return raise(risk, "high")
    }
    if (name === "go" && sub === "run") return raise(risk, "medium")
    if (name === "cargo" && (sub === "publish" || sub === "login")) return raise(risk, "high")
    if (TEST_WORDS.has(sub)) return raise(risk, "low")
    if (INSTALL_WORDS.has(sub)) return raise(risk, args.some((a) => a === "-g" || a === "--global") ? "high" : "medium")
    if (BUILD_WORDS.has(sub)) return raise(risk, "medium")
    if (sub === "" || ["list", "ls", "outdated", "view", "info", "show", "why", "audit", "env", "config", "doctor", "version", "search", "tree"].includes(sub)) {
      return raise(risk, "read")
    }
    return raise(risk, "medium")
  }
  if (READ.has(name)) return risk
  if (LOW.has(name)) return raise(risk, "low")
  if (MEDIUM.has(name)) return raise(risk, "medium")
  if (HIGH.has(name)) return raise(risk, "high")
  // A program byok does not know: it could do anything.
  return raise(risk, "high")
}

export interface CommandRules {
  /** droid's commandAllowlist: these commands (by their first words) run at every level. */
  readonly allow: ReadonlyArray<string>
  /** droid's commandDenylist: never run. */
  readonly deny: ReadonlyArray<string>
}

/** Whether a simple command's words start with a rule's words (`git push` matches `git push --force`). */
const matches = (words: ReadonlyArray<string>, rule: string): boolean => {
  const ruleWords = parseCommand(rule).commands[0] ?? []
  return ruleWords.length > 0 && ruleWords.every((w, i) => words[i] === w)
}

/** The risk of a command line, with why: the highest of its parts, raised by how they are joined. */
export const classifyCommand = (line: string, rules: CommandRules = { allow: [], deny: [] }): { readonly risk: Risk; readonly why: string } => {
  const parsed = parseCommand(line)
  if (parsed.opaque) return { risk: "high", why: "byok cannot read this command line (an unclosed quote or a heredoc)" }
  if (parsed.commands.length === 0) return { risk: "read", why: "an empty command" }
  for (const words of parsed.commands) {
    const denied = rules.deny.find((rule) => matches(words, rule))
    if (denied !== undefined) return { risk: "blocked", why: `"${denied}" is in commandDenylist` }
  }
  let risk: Risk = "read"
  for (const words of parsed.commands) {
    const own = rules.allow.some((rule) => matches(words, rule)) ? "read" : commandRisk(words)
    risk = maxRisk(risk, own)
  }
  const reasons: Array<string> = []
  if (parsed.substitution) {
    risk = raise(risk, "medium")
    reasons.push("it runs a command substitution")
  }
  if (parsed.redirectsToFile) {
    risk = raise(risk, "low")
    reasons.push("it writes a file")
  }
  if (parsed.operators.includes("&")) {
    risk = raise(risk, "medium")
    reasons.push("it runs something in the background")
  }
  if (parsed.commands.some((words) => words.includes("sudo") || words.includes("doas"))) reasons.push("it uses sudo")
  const parts = parsed.commands.length > 1 ? `${parsed.commands.length} commands joined` : `"${parsed.commands[0]!.slice(0, 2).join(" ")}"`
  return { risk, why: [parts, ...reasons].join("; ") }
}
