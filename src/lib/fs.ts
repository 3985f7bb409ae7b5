// The FileSystem service byok runs with: the calls it and effect/cli make (read a file or a link, stat, exists, make
// a directory, write or append a file), over node:fs and synchronous (config files and the input history are
// small). @effect/platform-node's NodeFileSystem implements every call, and its module imports node:crypto (for
// temporary names), whose set-up cost every command about a millisecond of start-up (bench/modules.ts). Any other
// call fails as NotFound.
import { ByteSize, Effect, FileSystem, Layer, Option, PlatformError } from "effect"
import { accessSync, mkdirSync, readFileSync, readlinkSync, type Stats, statSync, writeFileSync } from "node:fs"

/** A node:fs failure as a PlatformError, with the reasons NodeFileSystem gives the same codes. */
const failure = (method: string, path: string, error: unknown): PlatformError.PlatformError => {
  const e = error as { code?: string; syscall?: string }
  const reason: PlatformError.SystemErrorTag = e.code === "ENOENT"
    ? "NotFound"
    : e.code === "EACCES" || e.code === "EPERM"
    ? "PermissionDenied"
    : e.code === "EEXIST"
    ? "AlreadyExists"
    : e.code === "EISDIR" || e.code === "ENOTDIR" || e.code === "ELOOP"
    ? "BadResource"
    : e.code === "EBUSY"
    ? "Busy"
    : "Unknown"
  return PlatformError.systemError({ _tag: reason, module: "FileSystem", method, pathOrDescriptor: path, syscall: e.syscall, cause: error })
}

const attempt = <A>(method: string, path: string, f: () => A) =>
  Effect.try({ try: f, catch: (error) => failure(method, path, error) })

const typeOf = (s: Stats): FileSystem.File.Type =>
  s.isFile()
    ? "File"
    : s.isDirectory()
    ? "Directory"
    : s.isSymbolicLink()
    ? "SymbolicLink"
    : s.isBlockDevice()
    ? "BlockDevice"
    : s.isCharacterDevice()
    ? "CharacterDevice"
    : s.isFIFO()
    ? "FIFO"
    : s.isSocket()
    ? "Socket"
    : "Unknown"

const info = (s: Stats): FileSystem.File.Info => ({
  type: typeOf(s),
  mtime: Option.some(s.mtime),
  atime: Option.some(s.atime),
  birthtime: Option.some(s.birthtime),
  dev: BigInt(s.dev),
  ino: Option.some(BigInt(s.ino)),
  mode: s.mode,
  nlink: Option.some(BigInt(s.nlink)),
  uid: Option.some(s.uid),
  gid: Option.some(s.gid),
  rdev: Option.some(BigInt(s.rdev)),
  size: ByteSize.bytes(BigInt(s.size)),
  blksize: Option.some(ByteSize.bytes(BigInt(s.blksize))),
  blocks: Option.some(BigInt(s.blocks))
})

export const fileSystem: FileSystem.FileSystem = FileSystem.makeNoop({
  readFileString: (path, encoding) =>
    attempt("readFileString", path, () => new TextDecoder(encoding).decode(readFileSync(path))),
  readLink: (path) => attempt("readLink", path, () => readlinkSync(path)),
  stat: (path) => attempt("stat", path, () => info(statSync(path))),
  // As NodeFileSystem's: a link to nothing does not exist; a path that cannot be checked fails.
  exists: (path) =>
    attempt("exists", path, () => {
      try {
        accessSync(path)
        return true
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return false
        throw error
      }
    }),
  makeDirectory: (path, options) =>
    attempt("makeDirectory", path, () => void mkdirSync(path, { recursive: options?.recursive ?? false, mode: options?.mode })),
  writeFileString: (path, data, options) =>
    attempt("writeFileString", path, () => writeFileSync(path, data, { flag: options?.flag ?? "w", mode: options?.mode }))
})

export const layer = Layer.succeed(FileSystem.FileSystem, fileSystem)
