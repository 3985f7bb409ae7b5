import { expect, test } from "bun:test"
import { deferSegmenter, restoreSegmenter } from "../src/lib/segmenter.ts"

test("a segmenter made while deferred segments as the real one does; restoring puts the real constructor back", () => {
  const original = Intl.Segmenter
  deferSegmenter()
  expect(Intl.Segmenter).not.toBe(original)
  const deferred = new Intl.Segmenter(undefined, { granularity: "grapheme" })
  restoreSegmenter()
  expect(Intl.Segmenter).toBe(original)
  const text = "e\u0301 👍🏽 中文 🇫🇷 x"
  const real = new Intl.Segmenter(undefined, { granularity: "grapheme" })
  expect([...deferred.segment(text)].map((s) => s.segment)).toEqual([...real.segment(text)].map((s) => s.segment))
  expect(deferred.resolvedOptions().granularity).toBe("grapheme")
})
