// Opening byok's SQLite files (the cost ledger, saved sessions): create the directory, WAL mode, a busy timeout so
// concurrent byok processes wait their turn, and migrations by user_version in one IMMEDIATE transaction.
// Also the one mapping from SQLite's failures to what a user can do about them.
import { constants, Database } from "bun:sqlite"
import { Effect, Schema } from "effect"
import { envFlag, envVar } from "./env.ts"
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs"

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  path: Schema.String,
  kind: Schema.Literals(["locked", "readonly", "corrupt", "newer", "other"]),
  detail: Schema.String
}) {
  override get message() {
    return `${this.path}: ${this.detail}`
  }
}

export const classifyStoreError = (path: string, error: unknown): StoreError => {
  if (error instanceof StoreError) return error
  const e = error as { code?: string; message?: string }
  const code = `${e.code ?? ""} ${e.message ?? String(error)}`
  const kind = /BUSY|LOCKED/.test(code)
    ? "locked"
    : /READONLY|CANTOPEN|EACCES|EROFS|EPERM|ENOTDIR|EEXIST|permission|not a directory/i.test(code)
    ? "readonly"
    : /NOTADB|CORRUPT|malformed/i.test(code)
    ? "corrupt"
    : "other"
  return new StoreError({ path, kind, detail: (e.message ?? String(error)).split("\n")[0]! })
}

const userVersion = (db: Database) => (db.query("PRAGMA user_version").get() as { user_version: number }).user_version

/**
 * byok's files hold prompts, answers and what they cost: only their owner may read them. The data directory is
 * made (or tightened to) mode 700, each file 600. A directory or file byok does not own is left as it is (chmod
 * would fail): the doctor reports what stays readable (doctor.ts).
 */
export const PRIVATE_DIR = 0o700
export const PRIVATE_FILE = 0o600

/** Makes a directory private: created with mode 700, or tightened when others can reach into it. */
export const privateDirectory = (dir: string) => {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR })
  tighten(dir, PRIVATE_DIR)
}

/** Takes group and other permissions off a file byok keeps, if it has any. */
export const tighten = (path: string, mode = PRIVATE_FILE) => {
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, mode)
  } catch {
    // not there, or not byok's to change
  }
}

/** Opens (creating if needed) and migrates a database; migration N brings the file from version N-1 to N. */
export const openDatabase = (path: string, migrations: ReadonlyArray<string>, busyTimeoutMs: number): Database => {
  const dir = path.slice(0, path.lastIndexOf("/"))
  if (dir !== "") privateDirectory(dir)
  // Created 600 before SQLite opens it; SQLite gives the WAL and shared-memory files the database's mode.
  if (!existsSync(path)) closeSync(openSync(path, "a", PRIVATE_FILE))
  for (const file of [path, `${path}-wal`, `${path}-shm`]) tighten(file)
  const db = new Database(path, { create: true, strict: true })
  try {
    db.run(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
    db.run("PRAGMA journal_mode = WAL")
    // WAL with synchronous=NORMAL survives a crash of byok; only a power cut can lose the last rows.
    db.run("PRAGMA synchronous = NORMAL")
    if (userVersion(db) !== migrations.length) {
      // IMMEDIATE takes the write lock first, so two processes creating the file at once do not both migrate.
      db.transaction(() => {
        const current = userVersion(db)
        if (current > migrations.length) {
          throw new StoreError({
            path,
            kind: "newer",
            detail: `written by a newer byok (schema ${current}, this one knows ${migrations.length}); update byok`
          })
        }
        for (let v = current; v < migrations.length; v++) db.run(migrations[v]!)
        db.run(`PRAGMA user_version = ${migrations.length}`)
      }).immediate()
    }
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** How long a byok process waits for another one's write before it gives up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 2000

/** What a store waits for a lock while it is in the user's way (a write after an answer); it tries again later. */
export const SHORT_BUSY_TIMEOUT_MS = 100

/**
 * Opens an existing database for reading only, or gives undefined when it must be opened for writing first (its
 * schema is older than this byok's). On a read-only directory, where SQLite cannot make the WAL's shared-memory
 * file, the file is opened as immutable: nothing can change it there anyway.
 */
const openForReading = (path: string, migrations: ReadonlyArray<string>, busyTimeoutMs: number): Database | undefined => {
  let db: Database
  for (const file of [path, `${path}-wal`, `${path}-shm`]) tighten(file)
  try {
    db = new Database(path, { readonly: true, strict: true })
    db.run(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
    userVersion(db)
  } catch (error) {
    if (!/CANTOPEN|READONLY|unable to open/i.test(String((error as { code?: string }).code ?? error))) throw error
    db = new Database(`file:${path.replace(/[?#%]/g, encodeURIComponent)}?immutable=1`, constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI)
  }
  const version = userVersion(db)
  if (version > migrations.length) {
    db.close()
    throw new StoreError({
      path,
      kind: "newer",
      detail: `written by a newer byok (schema ${version}, this one knows ${migrations.length}); update byok`
    })
  }
  if (version < migrations.length) {
    db.close()
    return undefined
  }
  return db
}

export interface LazyDatabase {
  /**
   * Runs `f` on the database, opened (and migrated) on first use so that commands that never touch it pay nothing;
   * SQLite's failures become a StoreError. `busyTimeoutMs` changes how long this use waits for a lock.
   */
  readonly use: <A>(f: (db: Database) => A, busyTimeoutMs?: number) => Effect.Effect<A, StoreError>
  /**
   * Runs `f` for reading: creates nothing (undefined when there is no file yet) and needs no write access, unless
   * the file must first be brought to this byok's schema.
   */
  readonly read: <A>(f: (db: Database) => A) => Effect.Effect<A | undefined, StoreError>
  /** Closes the handle, if it was opened. */
  readonly close: Effect.Effect<void>
}

export const lazyDatabase = (
  path: string,
  migrations: ReadonlyArray<string>,
  busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS
): LazyDatabase => {
  let db: Database | undefined
  let reader: Database | undefined
  const openForWriting = () => {
    reader?.close()
    reader = undefined
    return openDatabase(path, migrations, busyTimeoutMs)
  }
  return {
    read: (f) =>
      Effect.try({
        try: () => {
          if (db === undefined && reader === undefined) {
            if (!existsSync(path)) return undefined
            reader = openForReading(path, migrations, busyTimeoutMs)
            if (reader === undefined) db = openForWriting()
          }
          return f((db ?? reader)!)
        },
        catch: (error) => classifyStoreError(path, error)
      }),
    use: (f, wait) =>
      Effect.try({
        try: () => {
          db ??= openForWriting()
          if (wait === undefined || wait === busyTimeoutMs) return f(db)
          db.run(`PRAGMA busy_timeout = ${wait}`)
          try {
            return f(db)
          } finally {
            db.run(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
          }
        },
        catch: (error) => classifyStoreError(path, error)
      }),
    close: Effect.sync(() => {
      db?.close()
      reader?.close()
      db = undefined
      reader = undefined
    })
  }
}

/**
 * Where byok records (the ledger, saved conversations, input history): $BYOK_HOME, else $XDG_DATA_HOME/byok, else
 * ~/.local/share/byok. Nowhere when none of the three is set (a container with no HOME: nothing is written to
 * `/`), and off when BYOK_NO_RECORD asks for an ephemeral run.
 */
export type DataPlace =
  | { readonly _tag: "Directory"; readonly path: string }
  | { readonly _tag: "Off" }
  | { readonly _tag: "Nowhere" }

/** The data directory the environment names (BYOK_HOME, XDG_DATA_HOME, HOME), whether or not byok records. */
export const dataDirectory: Effect.Effect<string | undefined> = Effect.gen(function*() {
  const byokHome = yield* envVar("BYOK_HOME")
  if (byokHome) return byokHome
  const xdg = yield* envVar("XDG_DATA_HOME")
  if (xdg) return `${xdg}/byok`
  const home = yield* envVar("HOME")
  return home ? `${home.replace(/\/+$/, "")}/.local/share/byok` : undefined
})

export const dataPlace: Effect.Effect<DataPlace> = Effect.gen(function*() {
  if (yield* envFlag("BYOK_NO_RECORD")) return { _tag: "Off" } as const
  const path = yield* dataDirectory
  return path !== undefined ? { _tag: "Directory", path } as const : { _tag: "Nowhere" } as const
})
