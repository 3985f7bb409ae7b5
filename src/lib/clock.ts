// Elapsed time for what byok shows and books (a spinner's seconds, a request's duration): from a clock that never
// moves back, unlike the wall clock (NTP, a user setting the time), which once made a tool line read -218844569.0 s.
import { Clock, Effect } from "effect"

/** Milliseconds on the monotonic clock: only differences between two readings mean anything. */
export const monotonicMillis: Effect.Effect<number> = Effect.map(Clock.monotonicTimeNanos, (ns) => Number(ns) / 1_000_000)
