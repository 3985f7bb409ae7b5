// Saved conversations: sessions.db next to the ledger. A session holds its system prompt and its messages, each
// with the model that answered and when; never a key. Ids are UUIDs (the conversation id of the ledger too);
// a unique prefix is enough to name one.
import type { Database, SQLQueryBindings } from "bun:sqlite"
import { Context, Effect, Layer, Schema } from "effect"
import { dataPlace, DEFAULT_BUSY_TIMEOUT_MS, lazyDatabase, PRIVATE_FILE, privateDirectory, type StoreError } from "../lib/sqlite.ts"
import type { ModelEntry } from "../config/schema.ts"
import { type ImagePart, type Part, textOf, type Turn } from "../providers/conversation.ts"
import { existsSync, readFileSync, writeFileSync } from "node:fs"

const MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    title TEXT NOT NULL,
    system TEXT,
    model_name TEXT NOT NULL
  );
  CREATE INDEX sessions_updated ON sessions (updated);
  CREATE TABLE messages (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    ts INTEGER NOT NULL,
    interrupted INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
  ) WITHOUT ROWID;`,
  // 2: each message's parts (text, reasoning with its signature or encrypted content, tool calls and results) as
  // JSON; `content` keeps its text, for titles and lists. A message saved before has none: its text is its part.
  `ALTER TABLE messages ADD COLUMN parts TEXT;`,
  // 3: a conversation compacted to fit its model's window (conversation/compaction.ts): its summary, the turns
  // before `summary_through` it replaces, and the turns before `pruned_through` whose tool results are cut.
  `ALTER TABLE sessions ADD COLUMN summary TEXT;
  ALTER TABLE sessions ADD COLUMN summary_through INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN pruned_through INTEGER NOT NULL DEFAULT 0;`
]

export type StoredMessage = Turn & {
  /** The message's text (its text parts joined). */
  readonly content: string
  readonly modelName: string
  readonly modelId: string
  readonly provider: string
  readonly ts: number
  /** An answer cut short by Ctrl-C: kept, and marked. */
  readonly interrupted: boolean
}

/** A message as saved, answered (or asked) with `entry`. */
export const storedMessage = (entry: ModelEntry, turn: Turn, ts: number, interrupted = false): StoredMessage => ({
  ...turn,
  content: textOf(turn),
  modelName: entry.displayName,
  modelId: entry.model,
  provider: entry.provider,
  ts,
  interrupted
})

export interface StoredSession {
  readonly id: string
  readonly system: string | undefined
  readonly modelName: string
  readonly messages: ReadonlyArray<StoredMessage>
  /** What is summarised and pruned (conversation/compaction.ts), by turn index. */
  readonly compacted: SessionCompaction
}

export interface SessionCompaction {
  readonly summary: string | undefined
  readonly through: number
  readonly pruned: number
}

export interface SessionSummary {
  readonly id: string
  readonly created: number
  readonly updated: number
  readonly title: string
  readonly modelName: string
  readonly messages: number
}

export interface Interface {
  readonly path: string
  /**
   * Opens (and creates, and migrates) the file now, so that the append after an answer does not pay for it. A
   * failure is left for that append to report.
   */
  readonly prepare: Effect.Effect<void>
  /** Appends messages to a session, creating it (titled by its first message) when new. */
  readonly append: (
    session: { readonly id: string; readonly system: string | undefined; readonly title?: string | undefined },
    messages: ReadonlyArray<StoredMessage>
  ) => Effect.Effect<void, StoreError>
  /** A session by id or unique id prefix; undefined when there is none. */
  readonly load: (idOrPrefix: string) => Effect.Effect<StoredSession | undefined, StoreError | AmbiguousSession>
  /** The most recently updated session. */
  readonly latest: Effect.Effect<StoredSession | undefined, StoreError>
  readonly list: (limit: number) => Effect.Effect<ReadonlyArray<SessionSummary>, StoreError>
  /** Saves what of a session is summarised and pruned (it exists: its messages were appended first). */
  readonly compact: (id: string, compacted: SessionCompaction) => Effect.Effect<void, StoreError>
  /** The titles of these sessions (those that exist), for labels in `byok cost`. */
  readonly titles: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, string>, StoreError>
}

/** A session id prefix that matches more than one session. */
export class AmbiguousSession extends Schema.TaggedError<AmbiguousSession>()("AmbiguousSession", {
  prefix: Schema.String,
  matches: Schema.Array(Schema.String)
}) {
  override get message() {
    return `"${this.prefix}" names several sessions: ${this.matches.join(", ")}; give more of the id`
  }
}

export class SessionStore extends Context.Service<SessionStore, Interface>()("byok/SessionStore") {}

const TITLE_LENGTH = 60

/**
 * Images are kept once each, by content hash, in `images/` beside the store (private, as the store is), not
 * inline in every message that carries them: a message's JSON holds the hash.
 */
const EXTENSIONS: Readonly<Record<string, string>> = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp" }

type SavedImage = Omit<ImagePart, "data"> & { readonly hash: string }

const imagePath = (dir: string, hash: string, mediaType: string) => `${dir}/images/${hash}.${EXTENSIONS[mediaType] ?? "bin"}`

/** The parts as saved: each image written to its file (when not there yet) and named by its hash. */
const savedParts = (dir: string, parts: ReadonlyArray<Part>): ReadonlyArray<Part | SavedImage> =>
  parts.map((part) => {
    if (part.type !== "image") return part
    const hash = new Bun.CryptoHasher("sha256").update(part.data).digest("hex")
    const path = imagePath(dir, hash, part.mediaType)
    if (!existsSync(path)) {
      privateDirectory(`${dir}/images`)
      writeFileSync(path, Buffer.from(part.data, "base64"), { mode: PRIVATE_FILE })
    }
    const { data: _data, ...rest } = part
    return { ...rest, hash }
  })

/** A message's parts as saved; one saved without them (or whose JSON cannot be read) is its text. */
const partsOf = (dir: string, json: string | null, content: string): ReadonlyArray<Part> => {
  if (json !== null) {
    try {
      const parts: unknown = JSON.parse(json)
      if (Array.isArray(parts)) {
        return (parts as ReadonlyArray<Part | SavedImage>).map((part): Part => {
          if (part.type !== "image" || !("hash" in part)) return part as Part
          const { hash, ...rest } = part
          try {
            return { ...rest, data: readFileSync(imagePath(dir, hash, part.mediaType)).toString("base64") }
          } catch {
            return { type: "text", text: "[an image that is no longer saved]" }
          }
        })
      }
    } catch {
      // the text below
    }
  }
  return [{ type: "text", text: content }]
}

export const make = (path: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Interface & { readonly close: Effect.Effect<void> } => {
  // Reading (list, load, latest) creates no file and needs no write access: see lazyDatabase.
  const { use, read: reading, close } = lazyDatabase(path, MIGRATIONS, busyTimeoutMs)
  const dir = path.slice(0, path.lastIndexOf("/")) || "."

  const read = (db: Database, id: string): StoredSession | undefined => {
    const session = db.query(
      "SELECT id, system, model_name AS modelName, summary, summary_through AS through, pruned_through AS pruned FROM sessions WHERE id = ?"
    ).get(id) as
      | { id: string; system: string | null; modelName: string; summary: string | null; through: number; pruned: number }
      | null
    if (session === null) return undefined
    type Row = Omit<StoredMessage, "interrupted" | "parts"> & { interrupted: number; parts: string | null }
    const messages = (db.query(
      `SELECT role, content, parts, model_name AS modelName, model_id AS modelId, provider, ts, interrupted
       FROM messages WHERE session_id = ? ORDER BY seq`
    ).all(id) as Array<Row>).map((m) => ({ ...m, parts: partsOf(dir, m.parts, m.content), interrupted: m.interrupted === 1 }) as StoredMessage)
    return {
      id: session.id,
      system: session.system ?? undefined,
      modelName: session.modelName,
      messages,
      compacted: { summary: session.summary ?? undefined, through: session.through, pruned: session.pruned }
    }
  }

  const compact: Interface["compact"] = (id, compacted) =>
    use((db) => {
      db.query("UPDATE sessions SET summary = ?, summary_through = ?, pruned_through = ? WHERE id = ?")
        .run(compacted.summary ?? null, compacted.through, compacted.pruned, id)
    })

  const append: Interface["append"] = (session, messages) =>
    use((db) => {
      if (messages.length === 0) return
      db.transaction(() => {
        const last = messages.at(-1)!
        const firstUser = messages.find((m) => m.role === "user")?.content ?? messages[0]!.content
        const title = (session.title ?? firstUser).replace(/\s+/g, " ").trim().slice(0, TITLE_LENGTH)
        db.query(
          `INSERT INTO sessions (id, created, updated, title, system, model_name) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, model_name = excluded.model_name`
        ).run(session.id, messages[0]!.ts, last.ts, title, session.system ?? null, last.modelName)
        const seq = (db.query("SELECT COALESCE(MAX(seq), 0) AS n FROM messages WHERE session_id = ?").get(session.id) as {
          n: number
        }).n
        const insert = db.query(
          `INSERT INTO messages (session_id, seq, role, content, parts, model_name, model_id, provider, ts, interrupted)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
        )
        messages.forEach((m, i) => {
          // A message that is its text alone keeps no parts: it reads back the same, and older byoks read it.
          const plain = m.parts.length === 1 && m.parts[0]!.type === "text"
          const values: Array<SQLQueryBindings> = [
            session.id,
            seq + i + 1,
            m.role,
            m.content,
            plain ? null : JSON.stringify(savedParts(dir, m.parts)),
            m.modelName,
            m.modelId,
            m.provider,
            m.ts,
            m.interrupted ? 1 : 0
          ]
          insert.run(...values)
        })
      }).immediate()
    })

  const load: Interface["load"] = (idOrPrefix) =>
    reading((db) => {
      const exact = read(db, idOrPrefix)
      if (exact !== undefined) return { session: exact }
      const matches = (db.query("SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY updated DESC LIMIT 5")
        .all(`${idOrPrefix.replace(/[\\%_]/g, "\\$&")}%`) as Array<{ id: string }>).map((r) => r.id)
      if (matches.length > 1) return { ambiguous: matches }
      return { session: matches.length === 1 ? read(db, matches[0]!) : undefined }
    }).pipe(
      Effect.flatMap((r) =>
        r === undefined
          ? Effect.succeed(undefined)
          : "ambiguous" in r
          ? Effect.fail(new AmbiguousSession({ prefix: idOrPrefix, matches: r.ambiguous }))
          : Effect.succeed(r.session)
      )
    )

  const latest = reading((db) => {
    const row = db.query("SELECT id FROM sessions ORDER BY updated DESC LIMIT 1").get() as { id: string } | null
    return row === null ? undefined : read(db, row.id)
  })

  const list: Interface["list"] = (limit) =>
    reading((db) =>
      db.query(
        `SELECT s.id, s.created, s.updated, s.title, s.model_name AS modelName,
           (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS messages
         FROM sessions s ORDER BY s.updated DESC LIMIT ?`
      ).all(limit) as Array<SessionSummary>
    ).pipe(Effect.map((rows) => rows ?? []))

  const titles: Interface["titles"] = (ids) =>
    reading((db) => {
      const query = db.query("SELECT title FROM sessions WHERE id = ?")
      const out = new Map<string, string>()
      for (const id of ids) {
        const row = query.get(id) as { title: string } | null
        if (row !== null) out.set(id, row.title)
      }
      return out
    }).pipe(Effect.map((found) => found ?? new Map<string, string>()))

  const prepare = use(() => undefined).pipe(Effect.ignore)

  return { path, prepare, append, compact, load, latest, list, titles, close }
}

/** A store that keeps nothing: recording is off (BYOK_NO_RECORD), or there is nowhere to keep it (no HOME). */
export const disabled: Interface = {
  path: "",
  prepare: Effect.void,
  append: () => Effect.void,
  compact: () => Effect.void,
  load: () => Effect.succeed(undefined),
  latest: Effect.succeed(undefined),
  list: () => Effect.succeed([]),
  titles: () => Effect.succeed(new Map())
}

/** The store for the program's lifetime (sessions.db in the data directory); its file is closed at the end. */
export const layer = Layer.effect(
  SessionStore,
  Effect.flatMap(dataPlace, (place) =>
    place._tag !== "Directory"
      ? Effect.succeed(SessionStore.of(disabled))
      : Effect.acquireRelease(Effect.sync(() => make(`${place.path}/sessions.db`)), (store) => store.close).pipe(
        Effect.map((store) => SessionStore.of(store))
      ))
)
