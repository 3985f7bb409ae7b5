// Autonomy levels as droid defines them, what running something takes (a risk), and droid's command allow and deny
// lists: the words the config, the sandbox and the tools share. A leaf, below all three.

export type Autonomy = "off" | "low" | "medium" | "high"
export const AUTONOMY_LEVELS: ReadonlyArray<Autonomy> = ["off", "low", "medium", "high"]

/** What running something takes: "read" is allowed at every level; "blocked" at none. */
export type Risk = "read" | "low" | "medium" | "high" | "blocked"

const RANK: Readonly<Record<Risk, number>> = { read: 0, low: 1, medium: 2, high: 3, blocked: 4 }
const LEVEL_RANK: Readonly<Record<Autonomy, number>> = { off: 0, low: 1, medium: 2, high: 3 }

export const rankOf = (risk: Risk): number => RANK[risk]

export const maxRisk = (a: Risk, b: Risk): Risk => (RANK[a] >= RANK[b] ? a : b)

/** Whether a level allows a risk. */
export const allows = (level: Autonomy, risk: Risk): boolean => risk !== "blocked" && RANK[risk] <= LEVEL_RANK[level]

/** The lowest level that allows a risk (undefined for blocked). */
export const levelFor = (risk: Risk): Autonomy | undefined =>
  risk === "blocked" ? undefined : risk === "read" ? "off" : risk

export interface CommandRules {
  /** droid's commandAllowlist: these commands (by their first words) run at every level. */
  readonly allow: ReadonlyArray<string>
  /** droid's commandDenylist: never run. */
  readonly deny: ReadonlyArray<string>
}
