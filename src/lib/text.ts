// Small text helpers shared by config validation and the CLI: "did you mean" suggestions.

/** Levenshtein distance, iterative with two rows: inputs here are short names. */
export const distance = (a: string, b: string): number => {
  if (a === b) return 0
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * The candidate closest to `input`, compared case-insensitively, when it is close enough to be a typo:
 * a case-only difference, a prefix/containment match, or an edit distance under a third of the length.
 */
export const closest = (input: string, candidates: ReadonlyArray<string>): string | undefined => {
  const needle = input.toLowerCase()
  let best: string | undefined
  let bestScore = Infinity
  for (const candidate of candidates) {
    const hay = candidate.toLowerCase()
    const score = hay === needle
      ? 0
      : needle.length >= 3 && (hay.includes(needle) || needle.includes(hay))
      ? 1
      : distance(needle, hay) + 1
    if (score < bestScore) {
      bestScore = score
      best = candidate
    }
  }
  if (best === undefined) return undefined
  return bestScore <= 1 || bestScore - 1 <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined
}

/** A count with its noun, singular for 1: `1 line`, `3 lines`, `1 request`. */
export const count = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`
