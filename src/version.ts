// The version, the commit and the target: defined by build.ts at compile time; "0.0.0-dev" from source.
declare const BYOK_VERSION: string | undefined
declare const BYOK_COMMIT: string | undefined
declare const BYOK_TARGET: string | undefined

export const VERSION: string = typeof BYOK_VERSION === "string" ? BYOK_VERSION : "0.0.0-dev"

/** What `byok --version` says after the version: `0.1.0 (3f2a9c1, linux-x64)`. */
export const versionLine = (version: string, commit: string, target: string) => `${version} (${commit}, ${target})`

export const VERSION_LINE: string = versionLine(
  VERSION,
  typeof BYOK_COMMIT === "string" ? BYOK_COMMIT : "source",
  typeof BYOK_TARGET === "string" ? BYOK_TARGET : `${process.platform}-${process.arch}`
)
