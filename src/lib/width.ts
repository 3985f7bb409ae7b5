// Text as wide as a terminal draws it: CJK and most emoji take two columns, combining marks and joiners none,
// escape sequences none. Tables (byok cost, byok models) align on this, not on the string's length. Bun's own
// measure (Bun.stringWidth) follows Unicode's East Asian Width and emoji data.

/** The columns a terminal gives the text. */
export const displayWidth = (text: string): number => Bun.stringWidth(text)

/** The text, with spaces after it up to `width` columns. */
export const padEnd = (text: string, width: number): string => text + " ".repeat(Math.max(0, width - displayWidth(text)))

/** The text, with spaces before it up to `width` columns. */
export const padStart = (text: string, width: number): string => " ".repeat(Math.max(0, width - displayWidth(text))) + text

/** The text cut to at most `width` columns, with "…" where it was cut (never half a character). */
export const truncateToWidth = (text: string, width: number): string => {
  if (displayWidth(text) <= width) return text
  let out = ""
  let used = 0
  for (const ch of text) {
    const w = displayWidth(ch)
    if (used + w > width - 1) break
    out += ch
    used += w
  }
  return `${out}…`
}
