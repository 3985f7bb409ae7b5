// macOS: a policy as a Seatbelt profile for /usr/bin/sandbox-exec, as codex does. Seatbelt can deny inside an
// allowed tree (the last rule that matches wins), so secret places and the protected workspace paths are denied
// outright. There is no Mac to run it on here: the profile's text is what the tests check.
import type { Policy } from "./policy.ts"

export const SANDBOX_EXEC = "/usr/bin/sandbox-exec"

/** A path as a Seatbelt string literal. */
const quote = (path: string) => `"${path.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"`

const place = (path: string) => (path === "/dev/null" ? `(literal ${quote(path)})` : `(subpath ${quote(path)})`)

export const profileOf = (policy: Policy): string => {
  const lines = [
    "(version 1)",
    "(deny default)",
    "(allow process-exec process-fork)",
    "(allow signal (target same-sandbox))",
    "(allow sysctl-read)",
    "(allow mach-lookup)",
    "(allow ipc-posix-shm)",
    "(allow pseudo-tty)",
    "(allow file-ioctl)",
    "(allow file-read*)",
    `(allow file-write* ${policy.write.map(place).join(" ")})`,
    ...(policy.protect.length > 0 ? [`(deny file-write* ${policy.protect.map(place).join(" ")})`] : []),
    ...(policy.secret.length > 0 ? [`(deny file-read* file-write* ${policy.secret.map(place).join(" ")})`] : []),
    policy.network ? "(allow network*)" : "(allow network* (remote unix-socket))"
  ]
  return `${lines.join("\n")}\n`
}
