// Linux: a policy as Landlock rules and a seccomp filter. The rules are worked out in byok (rulesFor, once per
// policy); enter.ts, started from byok's own executable with a hidden argument, applies them to itself through
// bun:ffi calls into libc (no_new_privs, Landlock, seccomp) and then execve()s the shell, which keeps them. Landlock
// only allows, so a secret place inside a readable tree is carved out: its ancestors get listing only, their other
// children the full right.
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs"
import { join } from "node:path"
import type { Policy } from "./policy.ts"

// ---- Landlock's ABI (include/uapi/linux/landlock.h) ------------------------------------------------------------------

export const FS = {
  EXECUTE: 1 << 0,
  WRITE_FILE: 1 << 1,
  READ_FILE: 1 << 2,
  READ_DIR: 1 << 3,
  REMOVE_DIR: 1 << 4,
  REMOVE_FILE: 1 << 5,
  MAKE_CHAR: 1 << 6,
  MAKE_DIR: 1 << 7,
  MAKE_REG: 1 << 8,
  MAKE_SOCK: 1 << 9,
  MAKE_FIFO: 1 << 10,
  MAKE_BLOCK: 1 << 11,
  MAKE_SYM: 1 << 12,
  REFER: 1 << 13, // ABI 2
  TRUNCATE: 1 << 14, // ABI 3
  IOCTL_DEV: 1 << 15 // ABI 5
} as const

/** Every filesystem right an ABI knows: the ruleset handles them all, so whatever no rule grants is denied. */
export const handledFs = (abi: number): number =>
  (1 << 13) - 1 | (abi >= 2 ? FS.REFER : 0) | (abi >= 3 ? FS.TRUNCATE : 0) | (abi >= 5 ? FS.IOCTL_DEV : 0)

/** The rights that apply to a file (rather than a directory's entries). */
const FILE_RIGHTS = FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV
const READ = FS.EXECUTE | FS.READ_FILE | FS.READ_DIR | FS.IOCTL_DEV

export interface Rule {
  readonly path: string
  readonly access: number
}

export interface Plan {
  readonly abi: number
  readonly rules: ReadonlyArray<Rule>
  readonly network: boolean
}

const real = (path: string): string | undefined => {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}

const isDir = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** The most entries of a folder holding a secret that get a rule each. */
const MAX_FANOUT = 256

const below = (path: string, root: string) => path === root || path.startsWith(root === "/" ? "/" : `${root}/`)

/**
 * The rules of a policy: reading everywhere but the secret places, writing in the policy's roots (a root with a
 * secret place inside it is carved the same way, and gets no write right of its own).
 */
export const rulesFor = (policy: Policy, abi: number): ReadonlyArray<Rule> => {
  const all = handledFs(abi)
  const secret = policy.secret.map(real).filter((p): p is string => p !== undefined)
  const rules: Array<Rule> = []
  const seen = new Set<string>()
  const add = (path: string, access: number) => {
    rules.push({ path, access: isDir(path) ? access & all : access & all & FILE_RIGHTS })
  }
  /** Grants `access` on `dir` but the secret places under it; ancestors of a secret get `ancestor` only. */
  const carve = (path: string, access: number, ancestor: number) => {
    const at = real(path)
    if (at === undefined || seen.has(`${at}\0${access}`)) return
    seen.add(`${at}\0${access}`)
    if (secret.some((s) => at === s || below(at, s))) return
    if (!secret.some((s) => below(s, at))) return add(at, access)
    if (ancestor !== 0) add(at, ancestor)
    let children: Array<string> = []
    try {
      children = readdirSync(at)
    } catch {
      return
    }
    // A crowded folder on the way to a secret (HOME under a busy /tmp): a rule per entry would cost a command
    // milliseconds each; its other entries are left unreadable instead, and only the way to the secret is carved.
    const crowded = children.length > MAX_FANOUT
    for (const child of children) {
      const path = join(at, child)
      if (!crowded || secret.some((s) => below(s, path))) carve(path, access, ancestor)
    }
  }
  carve("/", READ, FS.READ_DIR)
  for (const root of policy.write) {
    const at = real(root)
    if (at === undefined) continue
    // A root inside a secret place (the user works in it) is theirs to write; one holding a secret is carved.
    if (secret.some((s) => below(at, s))) add(at, all)
    else carve(at, all, 0)
  }
  return rules
}

/** Whether a path is a link (Landlock rules follow links when opened: rulesFor resolves them first). */
export const isLink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

// ---- libc through bun:ffi -------------------------------------------------------------------------------------------

const SYS = {
  x64: { landlockCreate: 444, landlockAdd: 445, landlockRestrict: 446, socket: 41, ioUringSetup: 425, arch: 0xc000003e },
  arm64: { landlockCreate: 444, landlockAdd: 445, landlockRestrict: 446, socket: 198, ioUringSetup: 425, arch: 0xc00000b7 }
} as const

const sys = process.arch === "arm64" ? SYS.arm64 : process.arch === "x64" ? SYS.x64 : undefined

const PR_SET_NO_NEW_PRIVS = 38
const PR_CAPBSET_DROP = 24
const SIGPIPE = 13
const SIGXFSZ = 25
const PR_SET_SECCOMP = 22
const SECCOMP_MODE_FILTER = 2
const O_PATH = 0x200000
const O_RDONLY = 0
const O_CLOEXEC = 0x80000
const EPERM = 1
const EINVAL = 22

type Libc = {
  readonly syscall: (n: number, a: number, b: number, c: number, d: number) => number | bigint
  readonly prctl: (option: number, a: number, b: number, c: number, d: number) => number
  readonly open: (path: number, flags: number) => number
  readonly close: (fd: number) => number
  readonly execve: (path: number, argv: number, envp: number) => number
  readonly dup2: (from: number, to: number) => number
  /** Puts a signal back to its default action (Bun ignores SIGPIPE and SIGXFSZ, and execve keeps what is ignored). */
  readonly defaultSignal: (signal: number) => void
  readonly geteuid: () => number
  readonly errno: () => number
  readonly ptr: (buffer: Buffer | BigUint64Array) => number
}

let libc: Libc | null | undefined

/** libc's functions, or null where they cannot be had (not Linux, no glibc or musl found). */
const loadLibc = async (): Promise<Libc | null> => {
  if (libc !== undefined) return libc
  if (process.platform !== "linux" || sys === undefined) return (libc = null)
  try {
    const ffi = await import("bun:ffi")
    const T = ffi.FFIType
    const names = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"]
    for (const name of names) {
      try {
        const lib = ffi.dlopen(name, {
          syscall: { args: [T.i64, T.i64, T.i64, T.i64, T.i64], returns: T.i64 },
          prctl: { args: [T.i32, T.u64, T.u64, T.u64, T.u64], returns: T.i32 },
          open: { args: [T.ptr, T.i32], returns: T.i32 },
          close: { args: [T.i32], returns: T.i32 },
          execve: { args: [T.ptr, T.ptr, T.ptr], returns: T.i32 },
          dup2: { args: [T.i32, T.i32], returns: T.i32 },
          signal: { args: [T.i32, T.ptr], returns: T.ptr },
          geteuid: { args: [], returns: T.u32 },
          __errno_location: { args: [], returns: T.ptr }
        })
        const s = lib.symbols
        return (libc = {
          syscall: (n, a, b, c, d) => s.syscall(n, a, b, c, d),
          prctl: (o, a, b, c, d) => s.prctl(o, a, b, c, d),
          open: (p, f) => s.open(p as never, f),
          close: (fd) => s.close(fd),
          execve: (p, a, e) => s.execve(p as never, a as never, e as never),
          dup2: (f, t) => s.dup2(f, t),
          defaultSignal: (n) => void s.signal(n, null),
          geteuid: () => s.geteuid(),
          errno: () => {
            const at = s.__errno_location()
            return at === null ? 0 : ffi.read.i32(at, 0)
          },
          ptr: (b) => ffi.ptr(b) as unknown as number
        })
      } catch {
        // the next name
      }
    }
  } catch {
    // no bun:ffi
  }
  return (libc = null)
}

/** Loads libc's functions ahead of the job (the helper does it while it waits for one). */
export const ready = async (): Promise<void> => {
  await loadLibc()
}

/** The Landlock ABI the kernel offers (0: none, or not Linux). */
export const landlockAbi = async (): Promise<number> => {
  const c = await loadLibc()
  if (c === null || sys === undefined) return 0
  const abi = Number(c.syscall(sys.landlockCreate, 0, 0, 1, 0))
  return abi > 0 ? abi : 0
}

const cString = (text: string) => Buffer.from(`${text}\0`, "utf8")

/**
 * A seccomp program: other architectures' calls, io_uring and every socket() fail with EPERM. AF_UNIX too: a
 * socket file outside (a tmux server, the user's systemd bus, docker.sock, an agent) would run for the command
 * what the sandbox forbids it, outside it. socketpair(), a separate call, stays: pipes between a command's own
 * processes need it.
 */
const networkFilter = (): Buffer => {
  const s = sys!
  const LD_W_ABS = 0x20
  const JEQ = 0x15
  const JGE = 0x35
  const RET = 0x06
  const ALLOW = 0x7fff0000
  const DENY = 0x00050000 | EPERM
  const program: Array<[number, number, number, number]> = [
    [LD_W_ABS, 0, 0, 4], // arch
    [JEQ, 1, 0, s.arch],
    [RET, 0, 0, DENY],
    [LD_W_ABS, 0, 0, 0], // syscall number
    [JGE, 3, 0, 0x40000000], // x32 calls: to the DENY at 8
    [JEQ, 2, 0, s.socket], // to the DENY at 8
    [JEQ, 1, 0, s.ioUringSetup], // to the DENY at 8
    [RET, 0, 0, ALLOW],
    [RET, 0, 0, DENY]
  ]
  const out = Buffer.alloc(program.length * 8)
  program.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, i * 8)
    out.writeUInt8(jt, i * 8 + 2)
    out.writeUInt8(jf, i * 8 + 3)
    out.writeUInt32LE(k >>> 0, i * 8 + 4)
  })
  return out
}

/**
 * Applies a plan to this thread and replaces the process with `argv` (never returns on success; a string says what
 * failed). no_new_privs first (Landlock and seccomp need it), then Landlock, then seccomp, then execve.
 */
export const enter = async (plan: Plan, file: string, argv: ReadonlyArray<string>): Promise<string> => {
  const c = await loadLibc()
  if (c === null || sys === undefined) return "this system has no libc that byok can call"
  // The job came on stdin; the command reads nothing (as Execute's commands always have).
  const devNull = c.open(c.ptr(cString("/dev/null")), O_RDONLY)
  if (devNull < 0 || c.dup2(devNull, 0) < 0) return `cannot put /dev/null on stdin (errno ${c.errno()})`
  if (devNull !== 0) c.close(devNull)
  if (c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) return `prctl(PR_SET_NO_NEW_PRIVS) failed (errno ${c.errno()})`
  // Run as root (a container), the command would keep root's capabilities, and CAP_SYS_PTRACE reads other
  // processes' environments (byok's keys) past Landlock: every capability leaves the bounding set, so none
  // survives the execve.
  if (c.geteuid() === 0) {
    for (let cap = 0; cap < 64; cap++) {
      // EINVAL: no such capability on this kernel (they end at 40 on 6.x)
      if (c.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) !== 0 && c.errno() !== EINVAL) return `dropping capability ${cap} failed (errno ${c.errno()})`
    }
  }
  const attr = Buffer.alloc(24)
  attr.writeBigUInt64LE(BigInt(handledFs(plan.abi)), 0)
  // Without the network: TCP bind and connect are handled (ABI 4) with no rule, so both are refused.
  attr.writeBigUInt64LE(BigInt(!plan.network && plan.abi >= 4 ? 3 : 0), 8)
  // ABI 6: signals only within the sandbox; abstract UNIX sockets too when the network is off.
  attr.writeBigUInt64LE(BigInt(plan.abi >= 6 ? 2 | (plan.network ? 0 : 1) : 0), 16)
  const size = plan.abi >= 6 ? 24 : plan.abi >= 4 ? 16 : 8
  const ruleset = Number(c.syscall(sys.landlockCreate, c.ptr(attr), size, 0, 0))
  if (ruleset < 0) return `landlock_create_ruleset failed (errno ${c.errno()})`
  const beneath = Buffer.alloc(12)
  for (const rule of plan.rules) {
    const fd = c.open(c.ptr(cString(rule.path)), O_PATH | O_CLOEXEC)
    if (fd < 0) continue // gone since the plan was made
    beneath.writeBigUInt64LE(BigInt(rule.access), 0)
    beneath.writeInt32LE(fd, 8)
    const added = Number(c.syscall(sys.landlockAdd, ruleset, 1, c.ptr(beneath), 0))
    const errno = c.errno()
    c.close(fd)
    if (added !== 0) return `landlock_add_rule for ${rule.path} failed (errno ${errno})`
  }
  if (Number(c.syscall(sys.landlockRestrict, ruleset, 0, 0, 0)) !== 0) return `landlock_restrict_self failed (errno ${c.errno()})`
  c.close(ruleset)
  if (!plan.network) {
    const filter = networkFilter()
    const prog = Buffer.alloc(16)
    prog.writeUInt16LE(filter.length / 8, 0)
    prog.writeBigUInt64LE(BigInt(c.ptr(filter)), 8)
    if (c.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c.ptr(prog), 0, 0) !== 0) return `seccomp failed (errno ${c.errno()})`
  }
  c.defaultSignal(SIGPIPE)
  c.defaultSignal(SIGXFSZ)
  const strings = argv.map(cString)
  const env = Object.entries(process.env).filter(([, v]) => v !== undefined).map(([k, v]) => cString(`${k}=${v}`))
  const pointers = (list: ReadonlyArray<Buffer>) => {
    const array = new BigUint64Array(list.length + 1)
    list.forEach((b, i) => (array[i] = BigInt(c.ptr(b))))
    return array
  }
  const argvArray = pointers(strings)
  const envArray = pointers(env)
  c.execve(c.ptr(cString(file)), c.ptr(argvArray), c.ptr(envArray))
  return `execve ${file} failed (errno ${c.errno()})`
}
