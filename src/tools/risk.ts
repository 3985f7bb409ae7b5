// The risk of a shell command (levels and risks: sandbox/levels.ts), read from its parsed words (never from a
// substring): off allows reading and a short allowlist; low, file edits and low-risk commands; medium, reversible
// workspace changes (installs, local git, builds); high, everything not blocked. The shell is read as a shell
// reads it: quotes, `$'…'`, `\`, `~`, `$HOME`, `$(…)`, backticks, process substitution, heredocs and redirections;
// wrappers (`env`, `xargs`, `sh -c`, `find -exec`, `timeout`…) are unwrapped, programs match by basename, and what
// cannot be understood is high. droid's commandAllowlist and commandDenylist apply to every command found. The
// sandbox (sandbox/) is what keeps the levels; this decides when to ask, and what never runs.
import { homedir } from "node:os"
import { normalize, resolve } from "node:path"
import { isInside } from "../lib/paths.ts"
import { type CommandRules, maxRisk, rankOf, type Risk } from "../sandbox/levels.ts"


// ---- parsing -------------------------------------------------------------------------------------------------------

/** Stands for a part of a word the shell fills in at run time ($VAR, $(…), a glob match…). */
export const DYNAMIC = "\u0000"

export interface Word {
  /** The word after quote removal, with ~, $HOME and $PWD expanded and every unknown part as DYNAMIC. */
  readonly value: string
  /** Unquoted glob characters: the shell may turn it into other words. */
  readonly glob: boolean
}

export interface Redirect {
  /** `>`, `>>`, `<`, `<>`, `>&`… */
  readonly op: string
  readonly target: Word
}

export interface Simple {
  readonly words: ReadonlyArray<Word>
  readonly redirects: ReadonlyArray<Redirect>
}

export interface Parsed {
  /** Every simple command, those inside $(…), backticks and process substitution included. */
  readonly simple: ReadonlyArray<Simple>
  /** The line's own commands, in order, one more than `operators` (what the operators join). */
  readonly top: ReadonlyArray<Simple>
  /** The operators between the top-level commands: |, &&, ||, ;, &, |&. */
  readonly operators: ReadonlyArray<string>
  /** Why byok cannot follow it (an unclosed quote, a function definition, `case`…), when it cannot. */
  readonly opaque: string | undefined
}

/** Each simple command's words, as plain strings (for `byok mcp add`, which splits one quoted word). */
export interface ParsedCommand {
  readonly commands: ReadonlyArray<ReadonlyArray<string>>
  readonly operators: ReadonlyArray<string>
  readonly opaque: boolean
}

interface Env {
  readonly home: string
  readonly cwd: string
}

const ANSI: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", e: "\x1b", E: "\x1b", f: "\f", v: "\v", "\\": "\\", "'": "'", "\"": "\"", "?": "?" }

/** Where a `$(`, `((` or `${` opened at `from` (the index after the opener) closes; -1 when it does not. */
const closing = (line: string, from: number, open: string, close: string): number => {
  let depth = 1
  for (let i = from; i < line.length; i++) {
    const c = line[i]!
    if (c === "\\") {
      i++
      continue
    }
    if (c === "'" && open === "(") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) return -1
      i = end
      continue
    }
    if (c === "\"") {
      for (i++; i < line.length && line[i] !== "\""; i++) if (line[i] === "\\") i++
      if (i >= line.length) return -1
      continue
    }
    if (c === open) depth++
    else if (c === close && --depth === 0) return i
  }
  return -1
}

class Parser {
  readonly simple: Array<Simple> = []
  readonly top: Array<Simple> = []
  readonly operators: Array<string> = []
  opaque: string | undefined
  constructor(readonly env: Env, readonly depth: number) {}

  fail(why: string) {
    this.opaque ??= why
  }

  /** A command line inside this one ($(…), backticks, sh -c, eval): its commands join this one's. */
  nested(text: string) {
    if (this.depth > 8) return this.fail("commands nested too deep")
    const inner = new Parser(this.env, this.depth + 1)
    inner.parse(text)
    this.simple.push(...inner.simple)
    if (inner.opaque !== undefined) this.fail(inner.opaque)
  }

  /** A `$…` at `i` (the `$`): what it adds to the word, and where it ends. */
  dollar(line: string, i: number, quoted: boolean): { readonly text: string; readonly end: number } {
    const next = line[i + 1]
    if (next === "(") {
      if (line[i + 2] === "(") {
        const end = closing(line, i + 3, "(", ")")
        if (end < 0 || line[end + 1] !== ")") {
          this.fail("an unclosed $((")
          return { text: DYNAMIC, end: line.length }
        }
        const body = line.slice(i + 3, end)
        if (/\$\(|`/.test(body)) this.fail("a command inside arithmetic")
        return { text: DYNAMIC, end: end + 1 }
      }
      const end = closing(line, i + 2, "(", ")")
      if (end < 0) {
        this.fail("an unclosed $(")
        return { text: DYNAMIC, end: line.length }
      }
      this.nested(line.slice(i + 2, end))
      return { text: DYNAMIC, end }
    }
    if (next === "{") {
      const end = closing(line, i + 2, "{", "}")
      if (end < 0) {
        this.fail("an unclosed ${")
        return { text: DYNAMIC, end: line.length }
      }
      const body = line.slice(i + 2, end)
      if (body === "HOME") return { text: this.env.home, end }
      if (body === "PWD") return { text: this.env.cwd, end }
      // ${X:-$(cmd)} runs cmd: byok does not follow parameter expansion's forms.
      if (/\$\(|`|<\(|>\(/.test(body)) this.fail("a command inside ${…}")
      return { text: DYNAMIC, end }
    }
    if (next === "'" && !quoted) {
      // $'…': ANSI-C quoting, its escapes decoded.
      let text = ""
      let j = i + 2
      for (; j < line.length && line[j] !== "'"; j++) {
        if (line[j] !== "\\") {
          text += line[j]
          continue
        }
        const e = line[++j] ?? ""
        const hex = e === "x" ? /^[0-9a-fA-F]{1,2}/.exec(line.slice(j + 1)) : e === "u" ? /^[0-9a-fA-F]{1,4}/.exec(line.slice(j + 1)) : e === "U" ? /^[0-9a-fA-F]{1,8}/.exec(line.slice(j + 1)) : null
        const octal = /^[0-7]{1,3}/.exec(line.slice(j))
        if (hex !== null) {
          text += String.fromCodePoint(parseInt(hex[0], 16))
          j += hex[0].length
        } else if (octal !== null) {
          text += String.fromCharCode(parseInt(octal[0], 8))
          j += octal[0].length - 1
        } else if (e === "c") {
          text += DYNAMIC
          j++
        } else text += ANSI[e] ?? `\\${e}`
      }
      if (j >= line.length) this.fail("an unclosed $'")
      return { text, end: j }
    }
    if (next === "\"" && !quoted) return { text: "", end: i } // $"…": a translated string, read as "…"
    const name = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(line.slice(i + 1))
    if (name === null) return { text: "$", end: i }
    if (name[0] === "HOME") return { text: this.env.home, end: i + 4 }
    if (name[0] === "PWD") return { text: this.env.cwd, end: i + 3 }
    return { text: DYNAMIC, end: i + name[0].length }
  }

  /** A backtick substitution opened at `i`: where it ends. */
  backtick(line: string, i: number): number {
    let j = i + 1
    let body = ""
    for (; j < line.length && line[j] !== "`"; j++) {
      if (line[j] === "\\" && /[`$\\]/.test(line[j + 1] ?? "")) j++
      body += line[j]
    }
    if (j >= line.length) this.fail("an unclosed `")
    else this.nested(body)
    return j
  }

  parse(line: string) {
    let words: Array<Word> = []
    let redirects: Array<Redirect> = []
    let word = ""
    let inWord = false
    let glob = false
    let redirect: string | undefined
    const heredocs: Array<{ readonly delimiter: string; readonly expands: boolean; readonly strip: boolean }> = []
    const endWord = () => {
      if (!inWord) return
      const w: Word = { value: word, glob }
      if (redirect !== undefined) {
        redirects.push({ op: redirect, target: w })
        redirect = undefined
      } else words.push(w)
      word = ""
      inWord = false
      glob = false
    }
    const endCommand = (op: string | undefined) => {
      endWord()
      if (redirect !== undefined) {
        this.fail(`a redirection (${redirect}) with no target`)
        redirect = undefined
      }
      if (words.length > 0 || redirects.length > 0) {
        this.simple.push({ words, redirects })
        this.top.push({ words, redirects })
      }
      words = []
      redirects = []
      if (op !== undefined) this.operators.push(op)
    }
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!
      const next = line[i + 1]
      if (c === "\\") {
        if (next === "\n") i++
        else {
          word += next ?? ""
          inWord = true
          i++
        }
        continue
      }
      if (c === "'") {
        const end = line.indexOf("'", i + 1)
        if (end < 0) {
          this.fail("an unclosed '")
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
          const d = line[j]!
          if (d === "\\") {
            const e = line[j + 1] ?? ""
            word += /[$`"\\\n]/.test(e) ? (e === "\n" ? "" : e) : `\\${e}`
            j++
          } else if (d === "$") {
            const { text, end } = this.dollar(line, j, true)
            word += text
            j = end
          } else if (d === "`") {
            j = this.backtick(line, j)
            word += DYNAMIC
          } else word += d
        }
        if (j >= line.length) {
          this.fail("an unclosed \"")
          break
        }
        inWord = true
        i = j
        continue
      }
      if (c === "$") {
        const { text, end } = this.dollar(line, i, false)
        word += text
        inWord = true
        i = end
        continue
      }
      if (c === "`") {
        i = this.backtick(line, i)
        word += DYNAMIC
        inWord = true
        continue
      }
      if ((c === "<" || c === ">") && next === "(" && !inWord) {
        // <(cmd) and >(cmd): the command runs; the word is a /dev/fd path.
        const end = closing(line, i + 2, "(", ")")
        if (end < 0) {
          this.fail("an unclosed process substitution")
          break
        }
        this.nested(line.slice(i + 2, end))
        word += "/dev/fd/" + DYNAMIC
        inWord = true
        i = end
        continue
      }
      if (c === "~" && !inWord && (next === undefined || next === "/" || /[\s;|&<>)]/.test(next))) {
        word += this.env.home
        inWord = true
        continue
      }
      if (c === "~" && !inWord) {
        word += DYNAMIC // ~user: another user's home
        inWord = true
        for (; /[A-Za-z0-9._-]/.test(line[i + 1] ?? ""); i++);
        continue
      }
      if (c === "*" || c === "?" || c === "[") {
        glob = true
        word += c
        inWord = true
        continue
      }
      if (c === " " || c === "\t") {
        endWord()
        continue
      }
      if (c === "#" && !inWord) {
        const end = line.indexOf("\n", i)
        i = (end < 0 ? line.length : end) - 1
        continue
      }
      if (c === "\n" || c === ";") {
        const op = c === ";" && next === ";" ? ";;" : ";"
        if (op === ";;") i++
        endCommand(op)
        if (c === "\n" && heredocs.length > 0) {
          // The heredocs' bodies follow this line: data, but an unquoted delimiter lets $(…) in them run.
          let at = i + 1
          for (const h of heredocs) {
            let found = false
            while (at <= line.length) {
              const end = line.indexOf("\n", at)
              const row = line.slice(at, end < 0 ? line.length : end)
              at = end < 0 ? line.length + 1 : end + 1
              if ((h.strip ? row.replace(/^\t+/, "") : row) === h.delimiter) {
                found = true
                break
              }
              if (h.expands && /\$|`/.test(row)) {
                for (let k = 0; k < row.length; k++) {
                  if (row[k] === "\\") k++
                  else if (row[k] === "$") k = this.dollar(row, k, true).end
                  else if (row[k] === "`") k = this.backtick(row, k)
                }
              }
            }
            if (!found) this.fail("a heredoc with no end")
          }
          heredocs.length = 0
          i = at - 1
        }
        continue
      }
      if (c === "|" || c === "&") {
        if (c === "&" && next === ">") {
          endWord()
          redirect = line[i + 2] === ">" ? "&>>" : "&>"
          i += redirect.length - 1
          continue
        }
        const op = next === c ? c + c : c === "|" && next === "&" ? "|&" : c
        endCommand(op)
        i += op.length - 1
        continue
      }
      if (c === "(" || c === ")") {
        if (c === "(" && next === "(" && !inWord) {
          // (( arithmetic )): reads, unless a command hides in it
          const end = closing(line, i + 2, "(", ")")
          if (end < 0) {
            this.fail("an unclosed ((")
            break
          }
          if (/\$\(|`/.test(line.slice(i + 2, end))) this.fail("a command inside arithmetic")
          i = end + (line[end + 1] === ")" ? 1 : 0)
          continue
        }
        if (c === "(" && inWord) {
          // NAME() { …; }: a function definition
          this.fail("a function definition")
          break
        }
        endCommand(c === "(" ? undefined : ";")
        continue
      }
      if (c === ">" || c === "<") {
        // 2>file, 2>&1: a number just before the operator names a stream, not a word.
        if (inWord && /^\d+$/.test(word)) {
          word = ""
          inWord = false
        } else endWord()
        let op = c
        if (c === "<" && next === "<") {
          op = line[i + 2] === "<" ? "<<<" : line[i + 2] === "-" ? "<<-" : "<<"
        } else if (c === ">" && (next === ">" || next === "|")) op = `>${next}`
        else if (next === "&") op = `${c}&`
        else if (c === "<" && next === ">") op = "<>"
        i += op.length - 1
        if (op === "<<" || op === "<<-") {
          let j = i + 1
          while (line[j] === " " || line[j] === "\t") j++
          const m = /^(['"]?)([^\s;|&<>'"()]+)\1/.exec(line.slice(j))
          if (m === null) {
            this.fail("a heredoc byok cannot read")
            break
          }
          heredocs.push({ delimiter: m[2]!, expands: m[1] === "", strip: op === "<<-" })
          i = j + m[0].length - 1
          continue
        }
        if (op.endsWith("&")) {
          // >&2, <&0, >&-: another stream; >&file (bash) writes the file
          let j = i + 1
          while (line[j] === " ") j++
          const m = /^(\d+|-)(?=$|[\s;|&<>)])/.exec(line.slice(j))
          if (m !== null) {
            i = j + m[0].length - 1
            continue
          }
        }
        redirect = op
        continue
      }
      word += c
      inWord = true
    }
    endCommand(undefined)
    if (heredocs.length > 0) this.fail("a heredoc with no body")
  }
}

const envOf = (context: { readonly cwd?: string | undefined; readonly home?: string | undefined } = {}): Env => ({
  home: context.home ?? process.env["HOME"] ?? homedir(),
  cwd: context.cwd ?? process.cwd()
})

export const parse = (line: string, context?: { readonly cwd?: string | undefined; readonly home?: string | undefined }): Parsed => {
  const parser = new Parser(envOf(context), 0)
  parser.parse(line)
  return { simple: parser.simple, top: parser.top, operators: parser.operators, opaque: parser.opaque }
}

/** A small shell word splitter: each simple command's words (quotes removed; ~ and $HOME expanded). */
export const parseCommand = (line: string): ParsedCommand => {
  const parsed = parse(line)
  return {
    commands: parsed.simple.filter((s) => s.words.length > 0).map((s) => s.words.map((w) => w.value)),
    operators: parsed.operators,
    opaque: parsed.opaque !== undefined || parsed.simple.some((s) => s.words.some((w) => w.value.includes(DYNAMIC)))
  }
}

// ---- unwrapping ------------------------------------------------------------------------------------------------------

/** One program the line runs, with the words it gets and what the wrappers around it added. */
interface Run {
  readonly name: string
  /** The program word as given (`/bin/rm`, `./build.sh`). */
  readonly program: Word
  readonly args: ReadonlyArray<Word>
  /** VAR=value before it (or given to env). */
  readonly assigns: ReadonlyArray<string>
  /** Raised by how it is run: sudo, a dynamic name… */
  readonly floor: Risk
  readonly reasons: ReadonlyArray<string>
}

const dynamicWord: Word = { value: DYNAMIC, glob: false }
const basename = (word: string) => word.replace(/\/+$/, "").replace(/^.*\//, "")

/** Wrappers: the options of each that take a value, and how many plain words come before the command. */
const WRAPPERS: Readonly<Record<string, { readonly valued: ReadonlyArray<string>; readonly skip?: number }>> = {
  command: { valued: [] },
  builtin: { valued: [] },
  exec: { valued: ["-a"] },
  nice: { valued: ["-n", "--adjustment"] },
  nohup: { valued: [] },
  setsid: { valued: [] },
  time: { valued: ["-f", "--format", "-o", "--output"] },
  timeout: { valued: ["-s", "--signal", "-k", "--kill-after"], skip: 1 },
  stdbuf: { valued: ["-i", "-o", "-e", "--input", "--output", "--error"] },
  ionice: { valued: ["-c", "-n", "-p", "--class", "--classdata"] },
  chrt: { valued: [], skip: 1 },
  taskset: { valued: [], skip: 1 },
  unbuffer: { valued: [] },
  caffeinate: { valued: ["-t", "-w"] },
  sudo: { valued: ["-u", "-g", "-C", "-D", "-h", "-p", "-U", "-r", "-t", "--user", "--group", "--chdir", "--host", "--prompt"] },
  doas: { valued: ["-u", "-C"] },
  strace: { valued: ["-e", "-o", "-p", "-s", "-u", "-E"] },
  ltrace: { valued: ["-e", "-o", "-p", "-s", "-u"] },
  flock: { valued: ["-w", "--timeout", "-E", "--conflict-exit-code"], skip: 1 },
  watch: { valued: ["-n", "--interval", "-d", "--differences"] }
}

const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "busybox"])

/** Splits `-n5`/`--opt=value` and decides whether a wrapper's option takes the next word. */
const takesValue = (option: string, valued: ReadonlyArray<string>) =>
  !option.includes("=") && valued.some((v) => option === v)

/**
 * The programs a simple command runs: itself, and whatever its wrappers (env, sudo, xargs, sh -c, find -exec…)
 * run. `nested` is told of command lines found in words (sh -c, eval, su -c, watch, env -S).
 */
const unwrap = (words: ReadonlyArray<Word>, nested: (text: string | undefined) => void, floor: Risk = "read", reasons: ReadonlyArray<string> = [], assigns: ReadonlyArray<string> = []): ReadonlyArray<Run> => {
  let rest = [...words]
  const vars = [...assigns]
  while (rest.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0]!.value)) vars.push(rest.shift()!.value.split("=")[0]!)
  if (rest.length === 0) return []
  const [program, ...args] = rest as [Word, ...Array<Word>]
  if (program.value.includes(DYNAMIC) || program.value === "") {
    return [{ name: DYNAMIC, program, args, assigns: vars, floor: maxRisk(floor, "high"), reasons: [...reasons, "the program's name is worked out when it runs"] }]
  }
  const name = basename(program.value)
  const self: Run = { name, program, args, assigns: vars, floor, reasons }
  const inner = (from: number, extraFloor: Risk = "read", why?: string, more: ReadonlyArray<string> = []) =>
    [self, ...unwrap(args.slice(from), nested, maxRisk(floor, extraFloor), why === undefined ? reasons : [...reasons, why], [...vars, ...more])]
  if (name === "env") {
    const set: Array<string> = []
    let i = 0
    for (; i < args.length; i++) {
      const a = args[i]!.value
      if (a === "--") {
        i++
        break
      }
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) set.push(a.split("=")[0]!)
      else if (a === "-S" || a === "--split-string") {
        nested(args[i + 1]?.value)
        return [self]
      } else if (a.startsWith("-S") || a.startsWith("--split-string=")) {
        nested(a.startsWith("-S") ? a.slice(2) : a.slice("--split-string=".length))
        return [self]
      } else if (a === "-u" || a === "--unset" || a === "-C" || a === "--chdir") i++
      else if (!a.startsWith("-")) break
    }
    // env's own options may include -C DIR; a program after them is what runs
    return i < args.length ? [self, ...unwrap(args.slice(i), nested, floor, reasons, [...vars, ...set])] : [self]
  }
  if (name === "xargs") {
    let i = 0
    const valued = ["-I", "-i", "-n", "-P", "-L", "-l", "-d", "-E", "-e", "-s", "-a", "--max-args", "--max-procs", "--delimiter", "--arg-file", "--replace", "--max-lines", "--eof", "--max-chars", "--process-slot-var"]
    for (; i < args.length && args[i]!.value.startsWith("-"); i++) if (takesValue(args[i]!.value, valued)) i++
    const command = args.slice(i)
    // xargs adds words from its input: the command's arguments are not known
    return command.length === 0 ? [self] : [self, ...unwrap([...command, dynamicWord], nested, floor, reasons, vars)]
  }
  if (name === "find" || name === "fd" || name === "fdfind") {
    const runs: Array<Run> = [self]
    const execs = name === "find" ? ["-exec", "-execdir", "-ok", "-okdir"] : ["-x", "--exec", "-X", "--exec-batch"]
    for (let i = 0; i < args.length; i++) {
      if (!execs.includes(args[i]!.value)) continue
      let j = i + 1
      while (j < args.length && args[j]!.value !== ";" && args[j]!.value !== "+") j++
      const command = args.slice(i + 1, j).map((w) => (w.value.includes("{}") ? dynamicWord : w))
      runs.push(...unwrap(name === "find" ? command : [...command, dynamicWord], nested, floor, reasons, vars))
      i = j
    }
    return runs
  }
  if (name === "busybox") return args.length > 0 ? [self, ...unwrap(args, nested, floor, reasons, vars)] : [self]
  if (SHELLS.has(name)) {
    const c = args.findIndex((w) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(w.value))
    if (c >= 0) {
      nested(args[c + 1]?.value)
      return [self]
    }
    return [self]
  }
  if (name === "eval") {
    nested(args.map((w) => w.value).join(" "))
    return [self]
  }
  if (name === "su" || name === "runuser") {
    const c = args.findIndex((w) => w.value === "-c" || w.value === "--command")
    if (c >= 0) nested(args[c + 1]?.value)
    return [{ ...self, floor: maxRisk(floor, "high") }]
  }
  if (name === "watch") {
    let i = 0
    for (; i < args.length && args[i]!.value.startsWith("-"); i++) if (takesValue(args[i]!.value, WRAPPERS["watch"]!.valued)) i++
    nested(args.slice(i).map((w) => w.value).join(" "))
    return [self]
  }
  const wrapper = WRAPPERS[name]
  if (wrapper !== undefined) {
    if (name === "command" && args.some((w) => w.value === "-v" || w.value === "-V")) return [self] // a look-up
    let i = 0
    for (; i < args.length && args[i]!.value.startsWith("-") && args[i]!.value !== "--"; i++) {
      if (takesValue(args[i]!.value, wrapper.valued)) i++
    }
    if (args[i]?.value === "--") i++
    i += wrapper.skip ?? 0
    const raise = name === "sudo" || name === "doas" ? "high" : name === "strace" || name === "ltrace" ? "high" : "read"
    return inner(i, raise, raise === "high" ? `it uses ${name}` : undefined)
  }
  return [self]
}

// ---- classification ---------------------------------------------------------------------------------------------------

/** Commands that only read (allowed at every level), with the options that would make them write checked apart. */
const READ = new Set([
  "ls", "cat", "head", "tail", "wc", "pwd", "echo", "printf", "grep", "egrep", "fgrep", "rg", "ag", "find", "fd", "fdfind", "which",
  "whereis", "type", "file", "stat", "du", "df", "tree", "sort", "uniq", "cut", "tr", "diff", "cmp", "basename",
  "dirname", "realpath", "readlink", "date", "uname", "whoami", "id", "hostname", "true", "false", "test", "[", "[[",
  "less", "more", "column", "nl", "od", "hexdump", "xxd", "md5sum", "sha256sum", "sha1sum", "sha512sum", "b2sum", "cksum", "jq", "yq", "env",
  "printenv", "ps", "uptime", "free", "nproc", "lscpu", "man", "help", "seq", "expr", "sleep", "tac", "rev", "fold",
  "comm", "join", "paste", "strings", "locate", "cal", "command", "builtin", "time", "nohup", "timeout", "nice", "stdbuf",
  "xargs", "setsid", "ionice", "unbuffer", "exec", "eval", "base64", "base32", "iconv", "fmt", "pr", "expand", "unexpand", "look", "numfmt", "factor", "tsort", "getconf", "locale", "tty", "logname", "groups", "users", "arch", "lsb_release"
])

/** Programs whose arguments are not paths (their words are text, patterns or numbers). */
const NOT_PATHS = new Set(["echo", "printf", "expr", "seq", "sleep", "test", "[", "[[", "true", "false", "date", "cal", "uname", "whoami", "id", "nproc", "pwd", "basename", "dirname", "which", "whereis", "type", "command", "builtin", "help", "man", "ps", "uptime", "free", "lscpu", "numfmt", "factor", "getconf", "locale", "printenv", "kill", "hostname"])

const GIT_READ = new Set(["status", "log", "diff", "show", "blame", "rev-parse", "ls-files", "grep", "describe", "shortlog", "reflog", "rev-list", "cat-file", "ls-tree", "whatchanged", "version", "help", "show-ref", "for-each-ref", "merge-base", "name-rev", "check-ignore", "count-objects"])
const GIT_MEDIUM = new Set([
  "add", "commit", "checkout", "switch", "restore", "merge", "rebase", "stash", "cherry-pick", "revert", "tag", "init",
  "mv", "rm", "fetch", "pull", "clone", "apply", "am", "worktree", "submodule", "notes", "format-patch", "bisect"
])
/** git's own options before the subcommand that take a value. */
const GIT_VALUED = ["-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env", "--super-prefix", "--list-cmds"]

/** Package managers and build tools: what each subcommand does. */
const TEST_WORDS = new Set(["test", "tests", "check", "lint", "typecheck", "fmt", "format", "vet"])
const INSTALL_WORDS = new Set(["install", "i", "ci", "add", "remove", "uninstall", "update", "upgrade", "sync", "get", "rm"])
const BUILD_WORDS = new Set(["build", "run", "exec", "start", "dev", "compile", "bundle", "make", "generate"])
const PACKAGE_TOOLS = new Set(["npm", "pnpm", "yarn", "bun", "deno", "pip", "pip3", "poetry", "uv", "cargo", "go", "gem", "bundle", "composer", "mvn", "gradle", "dotnet"])

/** Low risk: they write inside the workspace or run its checks. */
const LOW = new Set(["mkdir", "touch", "cp", "mv", "ln", "tsc", "eslint", "prettier", "pytest", "jest", "vitest", "mocha", "black", "ruff", "gofmt", "rustfmt", "shellcheck", "patch", "tee", "mktemp"])
/** Medium: reversible workspace changes and builds, or running the project's code. */
const MEDIUM = new Set(["make", "cmake", "ninja", "rm", "rmdir", "chmod", "tar", "unzip", "zip", "gzip", "gunzip", "bzip2", "xz", "node", "python", "python3", "ruby", "perl", "php", "truncate", "awk", "gawk", "mawk", "nawk", "sed", "gcc", "cc", "g++", "clang", "clang++", "rustc", "javac", "java", "sh", "bash", "zsh", "dash", "ksh", "source", ".", "cargo", "deno", "tsx", "ts-node"])
/** High: outside the workspace, the network, the system, or irreversible. */
const HIGH = new Set([
  "curl", "wget", "ssh", "scp", "sftp", "rsync", "ftp", "nc", "ncat", "netcat", "socat", "telnet", "docker", "podman", "kubectl", "helm", "terraform",
  "kill", "killall", "pkill", "chown", "chgrp", "systemctl", "service", "crontab", "at", "apt", "apt-get", "dpkg", "yum", "dnf", "brew",
  "pacman", "apk", "snap", "npx", "bunx", "pnpx", "su", "sudo", "doas", "runuser", "strace", "ltrace", "gdb",
  "osascript", "open", "xdg-open", "launchctl", "mount", "umount", "iptables", "ufw", "passwd", "useradd", "userdel", "usermod",
  "chattr", "setfacl", "setcap", "insmod", "rmmod", "modprobe", "sysctl", "timedatectl", "hwclock", "ntpdate", "date-set", "watch", "script", "busybox"
])
/** Never, at any level. */
const BLOCKED = new Set(["mkfs", "fdisk", "sfdisk", "cfdisk", "parted", "wipefs", "mkswap", "shutdown", "reboot", "halt", "poweroff", "format", "kexec"])

/** Programs that fetch from the network; piped into a shell, they run what they fetched. */
const FETCHERS = new Set(["curl", "wget", "fetch", "aria2c", "http", "https", "xh"])
const INTERPRETERS = new Set([...SHELLS, "python", "python3", "perl", "ruby", "node", "php", "bun", "deno"])

/** Variables that change what a program runs (or a shell's meaning) when set before it. */
const SAFE_ASSIGNS = /^(?:CI|NODE_ENV|DEBUG|LANG|LANGUAGE|LC_[A-Z]+|TZ|NO_COLOR|FORCE_COLOR|CLICOLOR|TERM|COLUMNS|LINES|RUST_BACKTRACE|RUST_LOG|PYTHONUNBUFFERED|PYTHONDONTWRITEBYTECODE|PYTHONHASHSEED|GOOS|GOARCH|CGO_ENABLED|VERBOSE|QUIET|PORT|HOST|RAILS_ENV|APP_ENV|FLASK_ENV|TEST|TESTING)$/

interface Verdict {
  readonly risk: Risk
  readonly why: string
}

const v = (risk: Risk, why: string): Verdict => ({ risk, why })

/** Where a path word leads, for the outside check: undefined when it is not a path (or not a place). */
interface PathCheck {
  readonly cwd: string
  readonly home: string
}

/** Devices that are streams, not places: neither reading nor writing them reaches a file. */
const STREAMS = /^\/dev\/(?:null|zero|u?random|stdin|stdout|stderr|tty|fd\/.*)$/

/** Whether a word, read as a path, leads out of the working directory (or cannot be known). */
const leadsOut = (value: string, at: PathCheck): "inside" | "outside" | "unknown" => {
  const known = value.split(DYNAMIC)[0]!
  if (value.includes(DYNAMIC) && known === "") return "unknown"
  const path = normalize(known.startsWith("/") ? known.replace(/^\/+/, "/") : resolve(at.cwd, known))
  if (STREAMS.test(path) || (value.includes(DYNAMIC) && path.startsWith("/dev/fd"))) return "inside"
  if (value.includes(DYNAMIC) && known.startsWith("/")) {
    // /etc/$X: somewhere below /etc
    const base = path.replace(/\/[^/]*$/, "") || "/"
    return isInside(at.cwd, base) ? "unknown" : "outside"
  }
  return isInside(at.cwd, path) ? "inside" : "outside"
}

/** The words of a command that could be paths: every argument, and what follows `=` in an option. */
const pathWords = (run: Run): ReadonlyArray<string> => {
  if (NOT_PATHS.has(run.name)) return []
  const args = run.args.map((w) => w.value)
  let skipFirst = false
  if (["grep", "egrep", "fgrep", "rg", "ag", "sed", "awk", "gawk", "mawk", "nawk", "jq", "yq"].includes(run.name)) {
    skipFirst = !args.some((a) => /^-(?:e|f|-regexp|-expression|-file|-from-file)/.test(a))
  }
  const words: Array<string> = []
  for (const a of args) {
    if (a.startsWith("-")) {
      const eq = a.indexOf("=")
      if (eq > 0) words.push(a.slice(eq + 1))
      else if (/^-[A-Za-z]\//.test(a)) words.push(a.slice(2)) // -I/usr/include, -o/x
      continue
    }
    if (skipFirst) {
      skipFirst = false
      continue
    }
    const eq = /^[A-Za-z_][A-Za-z0-9_.-]*=/.exec(a) // dd of=…, key=value
    words.push(eq !== null ? a.slice(eq[0].length) : a)
  }
  return words
}

/** A sed script's commands that write (w, W), read a file (r, R) or run (e, and s///e): byok reads them loosely. */
const sedScript = (script: string): Verdict | undefined => {
  // s/…/…/flags: its flags may hold w FILE or e
  let text = script
  const s = /(^|[;{}\n\s!0-9$/])s(.)/g
  let m: RegExpExecArray | null
  const flags: Array<string> = []
  while ((m = s.exec(text)) !== null) {
    const d = m[2]!
    if (/[\\\n\s]/.test(d)) break
    let i = m.index + m[0].length
    let parts = 0
    for (; i < text.length && parts < 2; i++) {
      if (text[i] === "\\") i++
      else if (text[i] === d) parts++
    }
    const end = text.slice(i).search(/[;}\n]/)
    flags.push(text.slice(i, end < 0 ? text.length : i + end))
    text = text.slice(0, m.index + m[1]!.length) + text.slice(end < 0 ? text.length : i + end)
    s.lastIndex = 0
  }
  if (flags.some((f) => f.includes("e"))) return v("high", "its sed script runs a command (s///e)")
  if (flags.some((f) => f.includes("w"))) return v("high", "its sed script writes a file (s///w)")
  // Strip addresses (/re/, numbers, $) and look at what is left at each command's start.
  const commands = text.replace(/\/(?:\\.|[^/\\])*\//g, "").split(/[;\n{}]/).map((c) => c.replace(/^[\s0-9,$!~+]*/, ""))
  if (commands.some((c) => /^e/.test(c))) return v("high", "its sed script runs a command (e)")
  if (commands.some((c) => /^[wW]/.test(c))) return v("high", "its sed script writes a file (w)")
  if (commands.some((c) => /^[rR]/.test(c))) return v("medium", "its sed script reads a file (r)")
  return undefined
}

/** What one program does, by its name and words (wrappers already unwrapped). */
const programRisk = (run: Run, at: PathCheck): Verdict => {
  const { name } = run
  const args = run.args.map((w) => w.value)
  const first = args.find((a) => !a.startsWith("-")) ?? ""
  const has = (...options: ReadonlyArray<string>) => args.some((a) => options.some((o) => a === o || a.startsWith(`${o}=`)))
  const shortFlag = (letter: string) => args.some((a) => /^-[A-Za-z]+$/.test(a) && a.includes(letter))
  if (name === DYNAMIC) return v("high", "the program's name is worked out when it runs")
  if (BLOCKED.has(name) || name.startsWith("mkfs.") || name.startsWith("mkfs")) return v("blocked", `${name} is never run`)
  if (name === "init" || name === "telinit") return /^[06sS]$/.test(first) ? v("blocked", `${name} ${first} is never run`) : v("high", `${name} changes the system`)
  if (name === "systemctl" && /^(?:poweroff|reboot|halt|kexec|suspend|hibernate|rescue|emergency)$/.test(first)) return v("blocked", `systemctl ${first} is never run`)
  if ((name === "kill" || name === "pkill" || name === "killall") && args.includes("-1")) return v("blocked", `${name} -1 stops every process`)
  // Version and help pages of programs byok knows; positional help/version only for those with subcommands.
  if (args.length === 1 && (args[0] === "--version" || args[0] === "--help") && (READ.has(name) || LOW.has(name) || MEDIUM.has(name) || HIGH.has(name) || PACKAGE_TOOLS.has(name) || name === "git")) {
    return v("read", `${name} ${args[0]}`)
  }
  if (args.length === 1 && (args[0] === "help" || args[0] === "version") && (PACKAGE_TOOLS.has(name) || name === "git")) return v("read", `${name} ${args[0]}`)
  switch (name) {
    case "rm": {
      const recursive = args.some((a) => /^-[a-zA-Z]*[rR]/.test(a) || a === "--recursive")
      return v(recursive ? "high" : "medium", recursive ? "it removes folders" : "it removes files")
    }
    case "dd": {
      const out = args.find((a) => a.startsWith("of="))
      return out !== undefined ? v("medium", "it writes a file (of=)") : v("read", "dd")
    }
    case "date":
      return has("-s", "--set") || args.some((a) => !a.startsWith("-") && !a.startsWith("+") && /^\d{4,}/.test(a)) || (first !== "" && !first.startsWith("+") && !args.some((a) => /^-(?:d|r|f|-date|-reference|-file)/.test(a)) && /^\d/.test(first))
        ? v("high", "it sets the clock")
        : v("read", "date")
    case "hostname":
      return first !== "" || has("-F", "--file", "-b", "--boot") ? v("high", "it sets the host name") : v("read", "hostname")
    case "sysctl":
      return has("-w", "--write", "-p", "--load", "--system") || args.some((a) => a.includes("=")) ? v("high", "it changes the kernel's settings") : v("read", "sysctl")
    case "hwclock":
      return has("--set", "-w", "--systohc", "-s", "--hctosys", "--adjust") ? v("high", "it sets the clock") : v("read", "hwclock")
    case "sort":
      if (has("--compress-program")) return v("high", "it runs a program (--compress-program)")
      return has("-o", "--output") || args.some((a) => /^-[a-zA-Z]*o./.test(a)) ? v("low", "it writes a file (-o)") : v("read", "sort")
    case "uniq":
    case "xxd": {
      const plain = args.filter((a) => !a.startsWith("-") || a === "-")
      const valued = name === "xxd" ? args.filter((a, i) => /^-(?:c|g|l|o|s|cols|len|seek|n|name)$/.test(a) && args[i + 1] !== undefined).length : 0
      return plain.length - valued >= 2 || (name === "xxd" && shortFlag("r") && plain.length >= 2) ? v("low", `it writes its second file (${name} IN OUT)`) : v("read", name)
    }
    case "tee":
      return args.some((a) => !a.startsWith("-")) ? v("low", "it writes files") : v("read", "tee")
    case "tree":
      return has("-o") ? v("low", "it writes a file (-o)") : v("read", "tree")
    case "grep":
    case "egrep":
    case "fgrep":
      return v("read", name)
    case "rg":
      return has("--pre", "--hostname-bin") ? v("high", "it runs a program (--pre)") : v("read", "rg")
    case "ag":
      return has("--pager") ? v("high", "it runs a pager program") : v("read", "ag")
    case "find": {
      const writes = args.filter((a) => ["-fls", "-fprint", "-fprintf", "-fprint0"].includes(a))
      if (args.includes("-delete")) return v("high", "it deletes what it finds (-delete)")
      if (writes.length > 0) return v("low", `it writes a file (${writes[0]})`)
      return v("read", "find")
    }
    case "fd":
    case "fdfind":
      return v("read", name)
    case "sed": {
      if (args.some((a) => /^-[a-zA-Z]*i/.test(a) || a.startsWith("--in-place"))) return v("medium", "it edits files in place (sed -i)")
      if (has("-f", "--file") || args.some((a) => /^-[a-zA-Z]*f/.test(a) && a.length > 1 && !a.startsWith("--"))) return v("high", "its sed script is in a file byok does not read")
      const scripts = args.flatMap((a, i) => (a === "-e" || a === "--expression" ? [args[i + 1] ?? ""] : a.startsWith("--expression=") ? [a.slice(13)] : []))
      const script = scripts.length > 0 ? scripts.join("\n") : first
      return sedScript(script) ?? v("read", "sed")
    }
    case "awk":
    case "gawk":
    case "mawk":
    case "nawk": {
      if (has("-f", "--file") || args.some((a) => /^-f./.test(a))) return v("high", "its awk program is in a file byok does not read")
      const program = args.find((a, i) => !a.startsWith("-") && !/^-[vF]$/.test(args[i - 1] ?? "")) ?? ""
      if (/\bsystem\s*\(|\|/.test(program.replace(/\|\|/g, ""))) return v("high", "its awk program runs a command (system() or a pipe)")
      if (/\bgetline\b/.test(program)) return v("high", "its awk program reads with getline")
      if (/\b(?:print|printf)\b[^;{}]*>/.test(program)) return v("high", "its awk program writes a file")
      if (/\b(?:fflush|close)\s*\(/.test(program) && /"[^"]*"/.test(program)) return v("medium", "its awk program names files or commands")
      return v("read", name)
    }
    case "tar":
      if (has("--to-command", "--checkpoint-action", "--use-compress-program", "--info-script", "--new-volume-script", "--rsh-command", "-I", "-F") || args.some((a) => /^-[a-zA-Z]*I./.test(a))) {
        return v("high", "tar runs a program (--to-command, --checkpoint-action, -I…)")
      }
      {
        // the mode is the first word's letters (tar tf, tar -tf) or --list
        const mode = /^-?[a-zA-Z]+$/.test(args[0] ?? "") ? args[0]!.replace(/^-/, "") : ""
        return has("--list") || (mode.includes("t") && !/[xcruA]/.test(mode)) ? v("read", "tar lists an archive") : v("medium", "tar writes files")
      }
    case "zip":
      if (has("-T", "-TT", "--test", "--unzip-command") || args.some((a) => /^-[a-zA-Z]*T/.test(a))) return v("high", "zip runs a program (-T/-TT)")
      return v("medium", "zip writes an archive")
    case "unzip":
      return shortFlag("l") || shortFlag("t") || shortFlag("v") ? v("read", "unzip lists an archive") : v("medium", "unzip writes files")
    case "less":
    case "more":
    case "most":
      return args.some((a) => a.startsWith("+") || a.startsWith("-k") || a === "--lesskey-file" || a.startsWith("--lesskey")) ? v("high", `${name} with + commands or a key file can run commands`) : v("read", name)
    case "man":
      return has("-P", "--pager", "-H", "--html", "-l", "--local-file") || args.some((a) => /^-[PH]./.test(a)) ? v("high", "man runs a program (-P, -H)") : v("read", "man")
    case "yq":
      return shortFlag("i") || has("--inplace") ? v("medium", "it edits a file in place (yq -i)") : v("read", "yq")
    case "jq":
      return v("read", "jq")
    case "git": {
      let i = 0
      const global: Array<string> = []
      for (; i < args.length && args[i]!.startsWith("-"); i++) {
        global.push(args[i]!)
        if (GIT_VALUED.includes(args[i]!)) global.push(args[++i] ?? "")
      }
      const sub = args[i] ?? ""
      const rest = args.slice(i + 1)
      const said = (...o: ReadonlyArray<string>) => rest.some((a) => o.some((x) => a === x || a.startsWith(`${x}=`)))
      if (global.some((g) => /^(?:-c|--config-env|--exec-path|--git-dir|--work-tree|--namespace)(?:=|$)/.test(g)) || global.some((g) => /^-c./.test(g))) {
        return v("high", "git with -c, --config-env, --exec-path, --git-dir or --work-tree can run any program")
      }
      if (sub === "") return v("read", "git")
      if (said("--output", "-o") && GIT_READ.has(sub) && sub !== "grep") return v("low", `git ${sub} --output writes a file`)
      if (sub === "grep" && (said("-O", "--open-files-in-pager") || rest.some((a) => a.startsWith("-O")))) return v("high", "git grep -O runs a program")
      if (said("--ext-diff", "--textconv", "--upload-pack", "--receive-pack", "-u", "--exec")) return v("high", `git ${sub} with a program option`)
      if (sub === "branch") return v(rest.some((a) => /^-[dDmMcC]$|^--delete$|^--move$|^--copy$/.test(a)) ? "medium" : rest.some((a) => !a.startsWith("-")) ? "medium" : "read", "git branch")
      if (sub === "reset") return v(rest.includes("--hard") ? "high" : "medium", "git reset")
      if (sub === "config") {
        const reading = rest.some((a) => /^(?:--get|--get-all|--get-regexp|--list|-l|--show-origin|--show-scope|get|list)$/.test(a)) && !rest.some((a) => a === "-e" || a === "--edit")
        return reading ? v("read", "git config reads") : v(said("--global", "--system", "--file", "-f") ? "high" : "medium", "git config writes settings")
      }
      if (sub === "remote") return v(rest.length === 0 || (rest.length === 1 && rest[0] === "-v") ? "read" : "medium", "git remote")
      if (sub === "reflog" || sub === "stash") {
        const action = rest.find((a) => !a.startsWith("-")) ?? ""
        if (sub === "reflog") return v(action === "expire" || action === "delete" ? "medium" : "read", "git reflog")
        return v(action === "list" || action === "show" ? "read" : "medium", `git stash ${action}`.trim())
      }
      if (sub === "tag") return v(rest.length === 0 || rest.every((a) => a === "-l" || a === "--list" || a.startsWith("-n")) ? "read" : "medium", "git tag")
      if (GIT_READ.has(sub)) return v("read", `git ${sub}`)
      if (GIT_MEDIUM.has(sub)) return v(rest.includes("--force") || rest.includes("-f") ? "high" : "medium", `git ${sub}`)
      return v("high", `git ${sub}`)
    }
  }
  if (PACKAGE_TOOLS.has(name)) {
    const sub = first
    if (name === "npm" || name === "pnpm" || name === "yarn" || name === "bun") {
      if (sub === "run" || sub === "run-script") {
        const script = args[args.indexOf(sub) + 1] ?? ""
        return v(TEST_WORDS.has(script) || script.startsWith("test") || script.startsWith("lint") ? "low" : "medium", `${name} run ${script}`)
      }
      if (["publish", "login", "logout", "adduser", "deprecate", "unpublish", "owner", "token", "exec", "x", "dlx", "create", "init"].includes(sub)) return v("high", `${name} ${sub}`)
    }
    if (name === "go" && sub === "run") return v("medium", "go run")
    if (name === "cargo" && (sub === "publish" || sub === "login" || sub === "install")) return v("high", `cargo ${sub}`)
    if (TEST_WORDS.has(sub)) return v("low", `${name} ${sub}`)
    if (INSTALL_WORDS.has(sub)) return v(args.some((a) => a === "-g" || a === "--global" || a === "--user" || a === "--system") ? "high" : "medium", `${name} ${sub}`)
    if (BUILD_WORDS.has(sub)) return v("medium", `${name} ${sub}`)
    if (["list", "ls", "outdated", "view", "info", "show", "why", "audit", "doctor", "version", "search", "tree"].includes(sub) || (sub === "" && args.length === 0)) {
      return v("read", `${name} ${sub}`.trim())
    }
    return v("medium", `${name} ${sub}`.trim())
  }
  if (SHELLS.has(name)) {
    // sh -c was unwrapped (its command is what counts); a script file runs the project's code; a shell with
    // neither runs whatever it reads
    if (args.some((a) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a))) return v("read", `${name} -c`)
    return args.some((a) => !a.startsWith("-")) ? v("medium", `${name} runs a script`) : v("high", `${name} runs what it reads`)
  }
  if (READ.has(name)) return v("read", name)
  if (LOW.has(name)) return v("low", name)
  if (MEDIUM.has(name)) return v("medium", name)
  if (HIGH.has(name)) return v("high", name)
  // A program in the workspace (./build.sh): the project's code, like `node script.js`.
  if (run.program.value.includes("/") && leadsOut(run.program.value, at) === "inside") return v("medium", `${run.program.value} is the project's own program`)
  return v("high", `${name} is a program byok does not know`)
}

/** Blocked shapes: rm -rf of a root, a home or the workspace; chmod -R of /; dd or a redirection onto a disk. */
const blockedShape = (run: Run, at: PathCheck): Verdict | undefined => {
  const args = run.args.map((w) => w.value)
  const targets = run.args.filter((w) => !w.value.startsWith("-"))
  const recursive = args.some((a) => /^-[a-zA-Z]*[rR]/.test(a) || a === "--recursive")
  const root = (w: Word) => {
    const value = w.value.replace(/\/+$/, "").replace(/\/\.$/, "") || "/"
    const path = normalize(value.startsWith("/") ? value.replace(/^\/+/, "/") : resolve(at.cwd, value))
    const dir = path.replace(/\/[^/]*$/, "") || "/"
    const home = normalize(at.home)
    const cwd = normalize(at.cwd)
    const wide = (p: string) => p === "/" || p === home || p === cwd || /^\/[^/]+$/.test(p)
    if (wide(path) && !w.glob && !value.includes(DYNAMIC)) return true
    // a glob (or an unknown part) at the level of /, ~ or the workspace: /*, /[a-z]*, ~/*, ./*, *
    // a glob that matches everything at the level of /, ~ or the workspace: *, /[a-z]*, ~/.*, ./?* (not *.o)
    const last = path.slice(dir === "/" ? 1 : dir.length + 1).replace(/\[[^\]]*\]/g, "?")
    if ((w.glob || value.includes(DYNAMIC)) && (dir === "/" || dir === home || dir === cwd) && /^\.?[*?\0]+$/.test(last)) return true
    return false
  }
  if (run.name === "rm" && recursive && (targets.some(root) || args.includes("--no-preserve-root"))) return v("blocked", "rm -r of /, a home, the working directory or everything in one")
  // the first plain word of chmod, chown and chgrp is the mode or the owner
  if ((run.name === "chmod" || run.name === "chown" || run.name === "chgrp") && recursive && targets.slice(1).some(root)) {
    return v("blocked", `${run.name} -R of / or a top-level folder`)
  }
  if (run.name === "dd") {
    const out = args.find((a) => a.startsWith("of="))?.slice(3)
    if (out !== undefined) {
      const path = normalize(out.replace(/^\/+/, "/"))
      if (path.startsWith("/dev/") && !STREAMS.test(path)) return v("blocked", "dd onto a device")
    }
  }
  return undefined
}


/** A rule's words as matched: the program by basename, then its words in order (options anywhere). */
const matchesRule = (run: Run, rule: string): boolean => {
  const ruleWords = parseCommand(rule).commands[0] ?? []
  if (ruleWords.length === 0 || basename(ruleWords[0]!) !== run.name) return false
  let args = run.args.map((w) => w.value)
  if (run.name === "git") {
    // git -C . push is git push
    const kept: Array<string> = []
    for (let i = 0; i < args.length; i++) {
      if (kept.length === 0 && args[i]!.startsWith("-")) {
        if (GIT_VALUED.includes(args[i]!)) i++
        continue
      }
      kept.push(args[i]!)
    }
    args = kept
  }
  const shortFlags = new Set(args.filter((a) => /^-[A-Za-z]+$/.test(a)).flatMap((a) => [...a.slice(1)]))
  const plain = args.filter((a) => !a.startsWith("-"))
  let at = 0
  for (const [k, word] of ruleWords.slice(1).entries()) {
    if (word.startsWith("-")) {
      if (!args.includes(word) && !(/^-[A-Za-z]+$/.test(word) && [...word.slice(1)].every((l) => shortFlags.has(l)))) return false
      continue
    }
    const found = plain.indexOf(word, at)
    // the first plain word of a rule is the subcommand: it must come first
    if (found < 0 || (k === 0 && found !== 0) || (at === 0 && k > 0 && found < 0)) return false
    at = found + 1
  }
  return true
}

/** Assignments before a program that change what it runs. */
const assignRisk = (run: Run): Verdict | undefined => {
  const risky = run.assigns.filter((a) => !SAFE_ASSIGNS.test(a))
  if (risky.length === 0) return undefined
  const code = risky.filter((a) => /^(?:LD_|DYLD_|GIT_|BASH_ENV$|ENV$|PATH$|PROMPT_COMMAND$|PS4$|SHELLOPTS$|BASHOPTS$|IFS$|PAGER$|MANPAGER$|LESS|EDITOR$|VISUAL$|PERL5|PYTHON|NODE_OPTIONS$|NODE_PATH$|RUBY|TAR_OPTIONS$|npm_config_|NPM_CONFIG_|HOME$)/.test(a))
  return code.length > 0
    ? v("medium", `it sets ${code.join(", ")}, which can make a program run other code`)
    : v("medium", `it sets ${risky.join(", ")} for the program`)
}

export interface Classified {
  readonly risk: Risk
  readonly why: string
}

/** The risk of a command line, with why: the highest of every program it runs, its redirections and its shape. */
export const classifyCommand = (
  line: string,
  rules: CommandRules = { allow: [], deny: [] },
  context?: { readonly cwd?: string | undefined; readonly home?: string | undefined }
): Classified => {
  const env = envOf(context)
  const at: PathCheck = { cwd: env.cwd, home: env.home }
  const parsed = parse(line, env)
  // A fork bomb defines a function that pipes into itself in the background.
  if (/([A-Za-z_:.][\w:.]*)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&/.test(line)) return v("blocked", "a fork bomb")
  // Lines to unwrap later (sh -c, eval…), each parsed as its own line.
  const runs: Array<Run> = []
  const extra: Array<string> = []
  const lines: Array<Parsed> = []
  const pending: Array<Simple> = [...parsed.simple]
  let opaque = parsed.opaque
  const seen = new Set<string>()
  while (pending.length > 0) {
    const simple = pending.shift()!
    const words = [...simple.words]
    // Reserved words that open or close a construct: the command is what follows.
    while (words.length > 0 && ["!", "{", "}", "then", "do", "else", "elif", "if", "while", "until", "fi", "done", "esac", "in"].includes(words[0]!.value)) words.shift()
    if (words[0]?.value === "for" || words[0]?.value === "select") continue
    if (words[0]?.value === "case" || words[0]?.value === "function" || words[0]?.value === "coproc") {
      opaque ??= `a ${words[0].value} construct`
      continue
    }
    if (words[0]?.value === "[[") continue
    for (const run of unwrap(words, (text) => {
      if (text === undefined || text.includes(DYNAMIC)) opaque ??= "a command line worked out when it runs"
      else if (!seen.has(text) && seen.size < 32) {
        seen.add(text)
        extra.push(text)
        const inner = parse(text, env)
        lines.push(inner)
        pending.push(...inner.simple)
        if (inner.opaque !== undefined) opaque ??= inner.opaque
      }
    })) runs.push(run)
  }
  const redirects = parsed.simple.flatMap((s) => s.redirects)
  // droid's deny list, and the built-in blocks, apply to every program found, at every level.
  for (const run of runs) {
    const denied = rules.deny.find((rule) => matchesRule(run, rule))
    if (denied !== undefined) return v("blocked", `"${denied}" is in commandDenylist`)
  }
  const uncertain = opaque ?? (runs.some((r) => r.name === DYNAMIC) ? "a program whose name is worked out when it runs" : undefined)
  if (uncertain !== undefined) {
    // What byok cannot follow is high; a denied or blocked program named anywhere in it still never runs.
    const text = [line, ...extra].join("\n")
    const named = (program: string) => new RegExp(`(?:^|[\\s;|&(\`'"/\\\\$=])${program.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:$|[\\s;|&)\`'"])`).test(text)
    const denied = rules.deny.find((rule) => named(basename(parseCommand(rule).commands[0]?.[0] ?? rule)))
    if (denied !== undefined) return v("blocked", `"${denied}" is in commandDenylist, and byok cannot read this line well enough to tell it is not run (${uncertain})`)
    const blocked = [...BLOCKED].find(named)
    if (blocked !== undefined) return v("blocked", `${blocked} is never run, and byok cannot read this line well enough to tell it is not (${uncertain})`)
    if (opaque !== undefined) return v("high", `byok cannot read this command line (${opaque})`)
  }
  if (runs.length === 0 && redirects.length === 0) return v("read", "an empty command")
  let risk: Risk = "read"
  const reasons: Array<string> = []
  const raise = (verdict: Verdict) => {
    if (rankOf(verdict.risk) > rankOf(risk)) reasons.unshift(verdict.why)
    else if (verdict.risk !== "read" && !reasons.includes(verdict.why)) reasons.push(verdict.why)
    risk = maxRisk(risk, verdict.risk)
  }
  for (const run of runs) {
    const blocked = blockedShape(run, at)
    if (blocked !== undefined) return blocked
    const own = programRisk(run, at)
    if (own.risk === "blocked") return own
    const allowed = run.floor === "read" && run.assigns.length === 0 && rules.allow.some((rule) => matchesRule(run, rule))
    if (!allowed) raise(own)
    if (run.floor !== "read") raise(v(run.floor, run.reasons.at(-1) ?? "it runs through a wrapper"))
    const assigned = assignRisk(run)
    if (assigned !== undefined) raise(assigned)
    // Paths it names, after the shell's expansion, with links followed: out of the workspace is high.
    if (!allowed) {
      for (const word of pathWords(run)) {
        const where = leadsOut(word, at)
        if (where === "outside") {
          raise(v("high", `it names a path outside the working directory (${word.replaceAll(DYNAMIC, "…")})`))
          break
        }
        if (where === "unknown" && own.risk !== "read") {
          raise(v("high", "its arguments are worked out when it runs, so where it writes cannot be known"))
          break
        }
        if (where === "unknown" && rankOf(own.risk) === 0 && !["xargs"].includes(run.name)) {
          raise(v("high", "a path in it is worked out when it runs, and may lead out of the working directory"))
          break
        }
      }
    }
  }
  for (const r of redirects) {
    if (r.op === "<<<") continue
    const where = leadsOut(r.target.value, at)
    const writes = r.op !== "<"
    if (where === "outside") raise(v("high", `it ${writes ? "writes" : "reads"} ${r.target.value.replaceAll(DYNAMIC, "…")}, outside the working directory`))
    else if (where === "unknown") raise(v("high", `it ${writes ? "writes" : "reads"} a file whose name is worked out when it runs`))
    else if (writes && !STREAMS.test(normalize(r.target.value.replace(/^\/+/, "/")))) raise(v("low", "it writes a file"))
    if (writes && /^\/+dev\/+(?:sd|nvme|hd|vd|xvd|mmcblk|disk|md|dm-|loop|mapper)/.test(r.target.value)) return v("blocked", "a redirection onto a disk")
  }
  // A download piped into a shell runs whatever the server sends (in the line, or in one it runs with sh -c, eval…).
  for (const line of [parsed, ...lines]) {
    const programs = line.top.map((s) => unwrap(s.words, () => {}).map((r) => r.name))
    for (let i = 0; i < line.operators.length; i++) {
      const [from, into] = [programs[i] ?? [], programs[i + 1] ?? []]
      if ((line.operators[i] === "|" || line.operators[i] === "|&") && from.some((n) => FETCHERS.has(n)) && into.some((n) => INTERPRETERS.has(n))) {
        return v("blocked", `a download piped into ${into.find((n) => INTERPRETERS.has(n))}`)
      }
    }
  }
  if (parsed.operators.includes("&")) raise(v("medium", "it runs something in the background"))
  const parts = parsed.simple.length > 1 ? `${parsed.simple.length} commands` : runs[0] !== undefined ? `"${[runs[0].program.value, ...runs[0].args.slice(0, 1).map((w) => w.value)].join(" ").replaceAll(DYNAMIC, "…")}"` : "a redirection"
  return v(risk, risk === "read" ? `${parts}: reads only` : [parts, ...reasons].join("; "))
}
