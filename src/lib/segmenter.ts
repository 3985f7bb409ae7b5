// effect/cli makes an Intl.Segmenter as its module loads (to measure text for help and error tables), and making
// one sets up ICU's segmentation data: about a millisecond of every command (bench/modules.ts: CliOutput), though
// the help pages are printed by the entry (main.ts) and effect/cli's tables are otherwise rare. While the
// application's modules load, `Intl.Segmenter` makes a stand-in that builds the real segmenter on its first use;
// app.ts puts the real constructor back before it runs anything, so no other code ever sees the stand-in.

const Real = Intl.Segmenter

class DeferredSegmenter {
  readonly #args: ConstructorParameters<typeof Intl.Segmenter>
  #real: Intl.Segmenter | undefined
  constructor(...args: ConstructorParameters<typeof Intl.Segmenter>) {
    this.#args = args
  }
  #get() {
    return (this.#real ??= new Real(...this.#args))
  }
  segment(input: string): Intl.Segments {
    return this.#get().segment(input)
  }
  resolvedOptions(): Intl.ResolvedSegmenterOptions {
    return this.#get().resolvedOptions()
  }
  static supportedLocalesOf = Real.supportedLocalesOf
}

/** From now until `restoreSegmenter`, a new Intl.Segmenter sets ICU up only when it is first used. */
export const deferSegmenter = () => {
  ;(Intl as { Segmenter: unknown }).Segmenter = DeferredSegmenter
}

export const restoreSegmenter = () => {
  ;(Intl as { Segmenter: unknown }).Segmenter = Real
}
