// Standard output that cannot be written (not a reader that went away: that is a quiet stop) in words.
import type { Explanation } from "./report.ts"

const OUTPUT_ERRORS: Record<string, string> = {
  ENOSPC: "no space is left on the device",
  EDQUOT: "the disk quota is used up",
  EIO: "an input/output error",
  EBADF: "standard output is closed",
  EFBIG: "the file is too large",
  EROFS: "the file system is read-only"
}

/** Writing the answer to stdout failed for a reason other than its reader going away: the output is lost. */
export const explainOutputError = (code: string): Explanation => ({
  headline: `Cannot write to standard output: ${OUTPUT_ERRORS[code] ?? "the write failed"} (${code})`,
  lines: ["The answer was not written in full. Free some space, or send the output somewhere else, and run again."]
})
