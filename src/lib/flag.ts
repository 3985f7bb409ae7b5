// What a yes/no environment variable such as NO_COLOR means: set to anything but "" or "0". A module of its own,
// with no imports, so that the entry (main.ts) reads it the way the application (lib/env.ts) does.
export const isSet = (value: string | undefined): boolean => value !== undefined && value !== "" && value !== "0"
