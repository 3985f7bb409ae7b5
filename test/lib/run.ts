// Runs a byok binary to completion and returns what it printed; used by the end-to-end tests and CI's smoke test.

export interface RunResult {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

export const runBinary = async (
  bin: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  stdin?: string,
  cwd?: string
): Promise<RunResult> => {
  const proc = Bun.spawn([bin, ...args], {
    ...(cwd !== undefined ? { cwd } : {}),
    env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", ...env },
    stdin: stdin !== undefined ? new TextEncoder().encode(stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  return { stdout, stderr, code }
}
