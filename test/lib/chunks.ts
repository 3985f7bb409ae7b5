/** A text cut at the given places (any numbers, taken modulo the length + 1): how a stream might split it. */
export const cutAt = (text: string, at: ReadonlyArray<number>): Array<string> => {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b)
  const pieces: Array<string> = []
  let last = 0
  for (const p of points) {
    pieces.push(text.slice(last, p))
    last = p
  }
  pieces.push(text.slice(last))
  return pieces
}
