// The command line as people type it: help and version as words, a question as the chat's first message, and the
// chat's flags before a command.
import { describe, expect, test } from "bun:test"
import { COMMANDS, helpAskedFor, normaliseArgs } from "../src/cli/args.ts"
import { root } from "../src/cli/commands.ts"

const args = (...a: Array<string>) => normaliseArgs(a)

describe("normaliseArgs", () => {
  test("help and version as words", () => {
    expect(args("help")).toEqual({ _tag: "Args", args: ["--help"] })
    expect(args("help", "exec")).toEqual({ _tag: "Args", args: ["exec", "--help"] })
    expect(args("version")).toEqual({ _tag: "Args", args: ["--version"] })
  })
  test("the chat's flags before a command go after it, values and = forms kept", () => {
    expect(args("-m", "X", "exec", "hi")).toEqual({ _tag: "Args", args: ["exec", "-m", "X", "hi"] })
    expect(args("--config=f.json", "models")).toEqual({ _tag: "Args", args: ["models", "--config=f.json"] })
    expect(args("-c", "--timeout", "30", "exec", "more")).toEqual({ _tag: "Args", args: ["exec", "-c", "--timeout", "30", "more"] })
  })
  test("a flag the command does not take is refused with the command's name", () => {
    expect(args("--system", "x", "models")).toEqual({ _tag: "Misplaced", flag: "--system", command: "models" })
    expect(args("-s", "abc", "cost")).toEqual({ _tag: "Misplaced", flag: "--session", command: "cost" })
  })
  test("words that are no command are the chat's first message", () => {
    expect(args("what is 2+2")).toEqual({ _tag: "Args", args: ["chat", "--", "what is 2+2"] })
    expect(args("-m", "X", "explain", "SSE")).toEqual({ _tag: "Args", args: ["chat", "-m", "X", "--", "explain", "SSE"] })
  })
  test("--wizard is refused, but not as the text of a prompt after --", () => {
    expect(args("--wizard")).toEqual({ _tag: "Unsupported", flag: "--wizard" })
    expect(args("exec", "--wizard")).toEqual({ _tag: "Unsupported", flag: "--wizard" })
    expect(args("exec", "--", "--wizard")).toEqual({ _tag: "Args", args: ["exec", "--", "--wizard"] })
  })
  test("everything else is left as it is", () => {
    expect(args()).toEqual({ _tag: "Args", args: [] })
    expect(args("-c")).toEqual({ _tag: "Args", args: ["-c"] })
    expect(args("exec", "-m", "X", "hi")).toEqual({ _tag: "Args", args: ["exec", "-m", "X", "hi"] })
    expect(args("--help")).toEqual({ _tag: "Args", args: ["--help"] })
  })
})

describe("helpAskedFor: the help pages the entry prints itself", () => {
  test("byok's own page and a command's, in each form; anything else is left to effect/cli", () => {
    for (const args of [["--help"], ["-h"], ["help"]]) expect(helpAskedFor(args)).toBe("")
    for (const args of [["help", "exec"], ["exec", "--help"], ["exec", "-h"]]) expect(helpAskedFor(args)).toBe("exec")
    for (const args of [["help", "nope"], ["exec", "hi", "--help"], ["-m", "x", "--help"], ["--version"], ["exec"], []]) {
      expect(helpAskedFor(args)).toBeUndefined()
    }
  })
})

test("the commands args.ts knows (for flags before a command, help pages) are the command tree's", () => {
  const names = root.subcommands.flatMap((group) => group.commands.map((command) => command.name))
  expect([...names].sort()).toEqual([...COMMANDS].sort())
})

describe("a mistyped command is refused, never sent as a paid prompt", () => {
  test("a word one edit from a command, or the start of one, is Unknown with the command it was meant to be", () => {
    const cases: Array<[Array<string>, string]> = [
      [["model"], "models"],
      [["doctr"], "doctor"],
      [["exce", "hi"], "exec"],
      [["sesions"], "sessions"],
      [["cots"], "cost"],
      [["doc"], "doctor"],
      [["-m", "X", "chta"], "chat"],
      [["completion", "bash"], "--completions"],
      [["completions", "zsh"], "--completions"]
    ]
    for (const [line, meant] of cases) {
      expect(args(...line)).toEqual({ _tag: "Unknown", word: line.find((w) => !w.startsWith("-") && w !== "X")!, suggestion: meant, help: false })
    }
  })
  test("real questions still start the chat", () => {
    for (const line of [["why is the sky blue"], ["what", "is", "2+2"], ["explain", "SSE"], ["hello"], ["docker", "compose?"], ["Model"]]) {
      const out = args(...line)
      if (line[0] === "Model") {
        expect(out._tag).toBe("Unknown")
        continue
      }
      expect(out).toEqual({ _tag: "Args", args: ["chat", "--", ...line] })
    }
  })
  test("`byok -- WORD` and `byok chat WORD` always send", () => {
    expect(args("--", "model")).toEqual({ _tag: "Args", args: ["chat", "--", "model"] })
    expect(args("chat", "model")).toEqual({ _tag: "Args", args: ["chat", "model"] })
  })
  test("help of a command that does not exist is an error, with the closest one", () => {
    expect(args("help", "foo")).toEqual({ _tag: "Unknown", word: "foo", suggestion: undefined, help: true })
    expect(args("help", "exce")).toEqual({ _tag: "Unknown", word: "exce", suggestion: "exec", help: true })
    expect(args("help", "exec")).toEqual({ _tag: "Args", args: ["exec", "--help"] })
  })
})
