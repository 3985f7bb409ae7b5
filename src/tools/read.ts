// Read: a text file's lines (or a range of them), numbered. A binary file is refused, and a long one is given in
// part, with how to read the rest.
import { Effect } from "effect"
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs"
import { type BuiltinTool, failed, int, str } from "./tool.ts"
import { count } from "../lib/text.ts"
import { resolvePath, shown } from "./workspace.ts"

/** Lines given at once unless asked for a range; each line at most so many characters. */
const DEFAULT_LINES = 2000
const MAX_LINE = 2000
/** Larger files are refused whole: the model reads them in ranges. */
const MAX_BYTES = 10 * 1024 * 1024

export const Read: BuiltinTool = {
  definition: {
    name: "Read",
    description: "Read a text file. Lines come numbered (from 1). For a long file give offset (the first line, from 1) " +
      "and limit (how many lines); by default the first 2000 lines are given.",
    parameters: {
      type: "object",
      properties: {
        file_path: { type: "string", description: "The file, absolute or relative to the working directory" },
        offset: { type: "number", description: "The first line to read, from 1" },
        limit: { type: "number", description: "How many lines to read" }
      },
      required: ["file_path"]
    }
  },
  readOnly: true,
  risk: () => ({ risk: "read", why: "it reads a file" }),
  subject: (args) => str(args, "file_path") ?? "",
  run: (args, ctx) =>
    Effect.sync(() => {
      const given = str(args, "file_path")
      if (given === undefined) return failed("file_path is missing: give the file to read.")
      const where = resolvePath(ctx, given)
      if ("refused" in where) return failed(where.refused, "outside the working directory")
      // Opened without waiting (a FIFO with no writer would hang) and checked on the open file, not the name, so
      // that a device, a FIFO or a socket swapped in after a look is still refused.
      let fd: number
      try {
        fd = openSync(where.path, constants.O_RDONLY | constants.O_NONBLOCK)
      } catch (error) {
        const code = (error as { code?: string }).code
        return code === "EISDIR"
          ? failed(`${given} is a directory: use LS to list it.`, "a directory")
          : code === "ENOENT"
          ? failed(`${given} does not exist.`, "no such file")
          : failed(`${given} cannot be read (${code ?? "error"}).`, "unreadable")
      }
      let bytes: Buffer
      try {
        const stat = fstatSync(fd)
        if (stat.isDirectory()) return failed(`${given} is a directory: use LS to list it.`, "a directory")
        if (!stat.isFile()) return failed(`${given} is not a regular file (a device, a FIFO or a socket); Read reads files only.`, "not a file")
        if (stat.size > MAX_BYTES) return failed(`${given} is ${Math.round(stat.size / 1048576)} MB: too large to read. Use Grep to find the part you need.`, "too large")
        // At most the cap, whatever the size said (a file that grows while it is read).
        const buffer = Buffer.alloc(Math.min(stat.size, MAX_BYTES) + 1)
        let got = 0
        for (let n = 1; n > 0 && got < buffer.length; got += n) n = readSync(fd, buffer, got, buffer.length - got, null)
        bytes = buffer.subarray(0, Math.min(got, MAX_BYTES))
      } finally {
        closeSync(fd)
      }
      const size = bytes.length
      if (bytes.subarray(0, 8192).includes(0)) {
        return failed(`${given} is a binary file (${size} bytes); Read gives text only. Execute \`file ${given}\` says what it is.`, "binary")
      }
      const lines = bytes.toString("utf8").split("\n")
      if (lines.at(-1) === "") lines.pop()
      const offset = Math.max(1, int(args, "offset") ?? 1)
      const limit = Math.max(1, int(args, "limit") ?? DEFAULT_LINES)
      const part = lines.slice(offset - 1, offset - 1 + limit)
      const width = String(offset + part.length).length
      const body = part.map((l, i) =>
        `${String(offset + i).padStart(width)}\t${l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)} [… line cut at ${MAX_LINE} characters]` : l}`
      ).join("\n")
      const end = offset - 1 + part.length
      const more = end < lines.length
        ? `\n[lines ${offset}–${end} of ${lines.length}; read on with offset ${end + 1}]`
        : ""
      return {
        output: lines.length === 0 ? `${shown(ctx.cwd, where.path)} is empty.` : body + more,
        isError: false,
        summary: `${count(part.length, "line")}${more !== "" ? ` of ${lines.length}` : ""}`
      }
    })
}
