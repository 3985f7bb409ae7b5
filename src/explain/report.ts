// What every explanation is: a headline saying what went wrong in the user's terms, then the fix and the facts,
// one item per line. explain/ writes them; cli/exit.ts decides the exit code and prints them.

export interface Explanation {
  /** What went wrong, one line. */
  readonly headline: string
  /** The fix and supporting detail, one item per line. */
  readonly lines: ReadonlyArray<string>
}
