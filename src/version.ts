// The version string: defined by build.ts at compile time; "dev" when running from source.
declare const BYOK_VERSION: string | undefined

export const VERSION: string = typeof BYOK_VERSION === "string" ? BYOK_VERSION : "0.0.0-dev"
