// What byok knows of the model servers people run themselves (Ollama, llama.cpp, vLLM, LM Studio) and of base
// URLs in general: which server listens on which default port, how to start it, and which path a base_url is
// missing. Read by explain/ (to name the fix) and by the doctor.
import type { ModelEntry } from "../config/schema.ts"
import { WIRE_FORMATS } from "./registry.ts"

export interface LocalServer {
  readonly name: string
  readonly defaultPort: string
  /** How to start it, as a sentence. */
  readonly start: string
}

export const LOCAL_SERVERS: ReadonlyArray<LocalServer> = [
  { name: "Ollama", defaultPort: "11434", start: "start it with `ollama serve` (and `ollama pull <model>` once)" },
  { name: "llama.cpp", defaultPort: "8080", start: "start it with `llama-server -m model.gguf --port 8080`" },
  { name: "vLLM", defaultPort: "8000", start: "start it with `vllm serve <model>`" },
  { name: "LM Studio", defaultPort: "1234", start: "start its local server (Developer tab → Start Server)" }
]

/** The local server an entry most likely points at, by its port; undefined for remote hosts and other ports. */
export const localServerOf = (entry: ModelEntry): LocalServer | undefined =>
  entry.endpoint.isLocal ? LOCAL_SERVERS.find((s) => s.defaultPort === entry.endpoint.port) : undefined

/** What to start when nothing listens at a local entry's address. */
export const startHint = (entry: ModelEntry): string => {
  const server = localServerOf(entry)
  return server !== undefined ? `${server.name}: ${server.start}` : "Start the model server"
}

/** Whether the entry looks like it is served by Ollama, whose models must be pulled before use. */
export const isOllama = (entry: ModelEntry): boolean => localServerOf(entry)?.name === "Ollama"

/**
 * The base_url to try when a server answered 404: OpenAI-style APIs live under a version path (`/v1`), which
 * base_url must include for formats that do not add it themselves. Undefined when base_url looks right.
 */
export const versionPathHint = (entry: ModelEntry): string | undefined =>
  WIRE_FORMATS[entry.provider].addsVersion || entry.endpoint.versioned || /openai/.test(entry.endpoint.path)
    ? undefined
    : `${entry.baseUrl}/v1`
