// Drives a program in a real pseudo-terminal through tmux: send keys, read the screen, wait for text.
// Each harness runs its own tmux server (-L), so tests never touch the user's sessions or each other.

export interface Pane {
  /** Keys in tmux's names: "Enter", "C-c", "M-Enter", "Up", or literal text with `text`. */
  keys(...keys: Array<string>): void
  text(text: string): void
  /** Types a line and presses Enter. */
  line(text: string): void
  /** Pastes text the way a terminal does for a bracketed-paste-aware program. */
  paste(text: string): void
  screen(): string
  /** The screen with its colours and attributes, as escape sequences. */
  screenWithEscapes(): string
  /** Waits until the screen matches; throws with the screen when it does not in time. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>
  /** The pane's title, as a program may set it with OSC 0 or 2. */
  title(): string
  stop(): void
}

let counter = 0

export const startPane = (command: ReadonlyArray<string>, env: Record<string, string>): Pane => {
  const socket = `byok-test-${process.pid}-${counter++}`
  const tmux = (...args: Array<string>) => {
    const r = Bun.spawnSync(["tmux", "-L", socket, ...args], { stdout: "pipe", stderr: "pipe" })
    if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`)
    return r.stdout.toString()
  }
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`
  const envPart = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(" ")
  // After the program ends, its exit status stays on screen for the test to read.
  const shell = `env -i TERM=xterm-256color PATH=${quote(process.env["PATH"] ?? "")} ${envPart} ${
    command.map(quote).join(" ")
  }; echo "[exited $?]"; sleep 60`
  tmux("new-session", "-d", "-s", "main", "-x", "100", "-y", "40", shell)
  const pane: Pane = {
    keys: (...keys) => void tmux("send-keys", "-t", "main", ...keys),
    text: (text) => void tmux("send-keys", "-t", "main", "-l", text),
    line: (text) => {
      tmux("send-keys", "-t", "main", "-l", text)
      tmux("send-keys", "-t", "main", "Enter")
    },
    paste: (text) => {
      tmux("set-buffer", "-b", "p", text)
      tmux("paste-buffer", "-p", "-b", "p", "-t", "main")
    },
    // -J joins lines the terminal wrapped, so that text is found whatever the width.
    screen: () => tmux("capture-pane", "-p", "-J", "-t", "main", "-S", "-200"),
    screenWithEscapes: () => tmux("capture-pane", "-p", "-e", "-J", "-t", "main", "-S", "-200"),
    waitFor: async (pattern, timeoutMs = 8000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const screen = pane.screen()
        if (typeof pattern === "string" ? screen.includes(pattern) : pattern.test(screen)) return screen
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; the screen:\n${screen}`)
        await Bun.sleep(40)
      }
    },
    title: () => tmux("display-message", "-p", "-t", "main", "#{pane_title}").trim(),
    stop: () => {
      try {
        tmux("kill-server")
      } catch {
        // already gone
      }
    }
  }
  return pane
}
