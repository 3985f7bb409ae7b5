// Markdown on a terminal, as an answer streams: each line is rendered as soon as it is complete (never more than
// the line being written is held back), with what earlier lines opened (a code fence) carried along. Headings,
// emphasis, inline code, links, strikethrough, lists, quotes, rules, and fenced code with light highlighting.
// Inline syntax is read by `marked`'s lexer (small, no dependencies, the most used Markdown parser in JavaScript);
// blocks are read line by line here, because a streaming renderer cannot wait for the whole answer.
import { Lexer, type Tokens } from "marked"
import { displayWidth } from "../lib/width.ts"

export interface MarkdownStyle {
  readonly bold: (s: string) => string
  readonly italic: (s: string) => string
  readonly dim: (s: string) => string
  readonly code: (s: string) => string
  readonly link: (s: string) => string
  readonly strike: (s: string) => string
  readonly keyword: (s: string) => string
  readonly string: (s: string) => string
  readonly number: (s: string) => string
  /**
   * A heading: bold with colour; without, its `#` marks are kept instead (a heading is drawn a piece at a time, and
   * marks around each piece would not read as one).
   */
  readonly heading: { readonly body: (s: string) => string; readonly keepMarks: boolean }
}

const ansi = (on: string, off: string) => (s: string) => `\x1b[${on}m${s}\x1b[${off}m`

export const colours: MarkdownStyle = {
  bold: ansi("1", "22"),
  italic: ansi("3", "23"),
  dim: ansi("2", "22"),
  code: ansi("36", "39"),
  link: ansi("4", "24"),
  strike: ansi("9", "29"),
  keyword: ansi("35", "39"),
  string: ansi("32", "39"),
  number: ansi("33", "39"),
  heading: { body: ansi("1", "22"), keepMarks: false }
}

/**
 * No colour (NO_COLOR): the structure is still drawn (bullets, boxes, no `#`), and bold and code keep their
 * Markdown marks (`**bold**`, `` `code` ``), so that without colour they still stand out from the text.
 */
export const plain: MarkdownStyle = {
  bold: (s) => (s === "" ? s : `**${s}**`),
  italic: (s) => s,
  dim: (s) => s,
  code: (s) => `\`${s}\``,
  link: (s) => s,
  strike: (s) => s,
  keyword: (s) => s,
  string: (s) => s,
  number: (s) => s,
  heading: { body: (s) => s, keepMarks: true }
}

type Inline = Tokens.Generic

const inline = (tokens: ReadonlyArray<Inline>, style: MarkdownStyle): string =>
  tokens.map((t) => {
    const inner = () => (t.tokens !== undefined && t.tokens.length > 0 ? inline(t.tokens, style) : String(t.text ?? ""))
    switch (t.type) {
      case "strong":
        return style.bold(inner())
      case "em":
        return style.italic(inner())
      case "codespan":
        return style.code(String(t.text))
      case "del":
        return style.strike(inner())
      case "link": {
        const text = inner()
        return t.href === text || t.href === `mailto:${text}` ? style.link(text) : `${style.link(text)} ${style.dim(`(${t.href})`)}`
      }
      case "br":
        return "\n"
      case "escape":
        return String(t.text)
      case "text":
        return t.tokens !== undefined && t.tokens.length > 0 ? inline(t.tokens, style) : unescape(String(t.text))
      default:
        return String(t.raw ?? "")
    }
  }).join("")

/** marked's lexer gives text with HTML entities escaped: the terminal wants the characters. */
const unescape = (s: string) =>
  s.replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")

const renderInline = (text: string, style: MarkdownStyle) => inline(Lexer.lexInline(text) as Array<Inline>, style)

/** Keywords common to the languages answers show most; enough to make code readable, not a grammar. */
const KEYWORDS = new RegExp(
  "\\b(" +
    [
      "function", "const", "let", "var", "return", "if", "else", "for", "while", "import", "export", "from", "class",
      "def", "async", "await", "new", "try", "catch", "finally", "throw", "fn", "pub", "use", "mut", "impl", "struct",
      "enum", "match", "interface", "type", "package", "func", "go", "defer", "in", "of", "not", "and", "or", "with",
      "as", "lambda", "yield", "null", "true", "false", "None", "True", "False", "nil", "self", "this", "echo", "then",
      "fi", "do", "done"
    ].join("|") + ")\\b",
  "g"
)

/** One line of code: comments dim, strings, numbers and keywords coloured. */
export const highlight = (line: string, style: MarkdownStyle): string => {
  const comment = /(^|\s)(\/\/|#|--)\s.*$/.exec(line)
  const body = comment !== null ? line.slice(0, comment.index + comment[1]!.length) : line
  const rest = comment !== null ? style.dim(line.slice(comment.index + comment[1]!.length)) : ""
  const out = body.replace(/("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|\b(\d+(?:\.\d+)?)\b|\b([A-Za-z_]\w*)\b/g, (m, str, num, word) =>
    str !== undefined ? style.string(m) : num !== undefined ? style.number(m) : word !== undefined && KEYWORDS.test(m) ? (KEYWORDS.lastIndex = 0, style.keyword(m)) : m)
  KEYWORDS.lastIndex = 0
  return out + rest
}

/**
 * Whether every marker in a piece was read as syntax: one left as a literal `*` (say) could still pair with one that
 * has not come yet ("_**_**a" is text until a last "*" makes part of it emphasis), so such a piece waits for its line.
 */
const settled = (piece: string): boolean => {
  const literal = /[*~`[\]]|(^|[^A-Za-z0-9])_|_($|[^A-Za-z0-9])/
  const walk = (tokens: ReadonlyArray<Inline>): boolean =>
    tokens.every((t) =>
      t.type === "text" ? (t.tokens !== undefined && t.tokens.length > 0 ? walk(t.tokens) : !literal.test(String(t.raw))) :
      t.type === "codespan" || t.type === "escape" || t.type === "br" ? true :
      t.tokens !== undefined ? walk(t.tokens) : true)
  return walk(Lexer.lexInline(piece) as Array<Inline>)
}

export interface MarkdownStream {
  /** Text as it arrives; gives back what can be shown now (the complete lines, rendered). */
  readonly push: (text: string) => string
  /**
   * Nothing more has come for a while (the stream paused): the last word of the line is shown too, even one that
   * could still turn into a link (`with` before `ttp://…`). Constructs still open (`**bo…`) keep waiting.
   */
  readonly flush: () => string
  /** The end of the answer: the last line, rendered. */
  readonly end: () => string
}

/** A thematic break: three or more of the same `-`, `*` or `_`, spaces allowed between. */
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/

/** What the start of a line says it is; undefined while too little of it has come to tell. */
type Kind =
  | { readonly _tag: "paragraph"; readonly prefix: string }
  | { readonly _tag: "heading"; readonly prefix: string }
  | { readonly _tag: "quote"; readonly prefix: string }
  | { readonly _tag: "item"; readonly prefix: string }
  | { readonly _tag: "whole" }

/** A word still being written that could turn out to hold an autolink (`https://…`, `www.…`, `name@host`). */
const mayBecomeLink = (word: string) => {
  if (/[:@/]|www\./i.test(word)) return true
  // marked finds a link's start anywhere in a word ("ahttp://…" too): any end of the word may be its beginning.
  const lower = word.toLowerCase()
  return ["http://", "https://", "www."].some((start) =>
    Array.from({ length: Math.min(start.length, lower.length) }, (_, n) => lower.slice(lower.length - n - 1)).some((end) => start.startsWith(end)))
}

/**
 * How much of a partial line may be shown now: up to a space where no inline construct is left open (emphasis with
 * `*`, `_` or `~`, a code span, a link or an autolink, an escape), or all of it when nothing is open and its last
 * word could not still turn into a link (`https://…`, `name@host`).
 */
const safeLength = (text: string, linksSettled = false): number => {
  const word = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c)
  let safe = 0
  let stars = 0
  let underscores = 0
  let tildes = 0
  let brackets = 0
  let parens = 0
  let angles = 0
  let code = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "\\") {
      if (i === text.length - 1) return safe
      i++
      continue
    }
    if (c === "`") {
      // A code span closes only with a run of backticks as long as the one that opened it; a run at the end may grow.
      let end = i
      while (text[end + 1] === "`") end++
      if (end === text.length - 1) return safe
      const run = end - i + 1
      code = code === 0 ? run : code === run ? 0 : code
      i = end
      continue
    }
    if (code > 0) continue
    // A run of markers (`**`, `~~`) opens or closes one construct.
    if (c === "*" || c === "_" || c === "~") {
      let end = i
      while (text[end + 1] === c) end++
      const intraword = c === "_" && word(text[i - 1]) && word(text[end + 1])
      if (end === text.length - 1 && !intraword) return safe
      if (c === "*") stars++
      else if (c === "~") tildes++
      else if (!intraword) underscores++
      i = end
    } else if (c === "[") brackets++
    else if (c === "]") brackets = Math.max(0, brackets - 1)
    else if (c === "(" && text[i - 1] === "]") parens++
    else if (c === ")" && parens > 0) parens--
    else if (c === "<") angles++
    else if (c === ">" && angles > 0) angles--
    const closed = code === 0 && stars % 2 === 0 && underscores % 2 === 0 && tildes % 2 === 0 && brackets === 0 &&
      parens === 0 && angles === 0
    if ((c === " " || c === "\t") && closed) safe = i + 1
    // At the end, a "]" may yet be followed by "(url)", and a word may yet become an autolink.
    else if (i === text.length - 1 && closed && !/[\]!]$/.test(text) && (linksSettled || !mayBecomeLink(text.slice(safe)))) {
      safe = text.length
    }
  }
  return safe
}

/** A line that is a table row: it starts with `|`. */
const TABLE_ROW = /^\s*\|/
/** A table's second row: `|---|:---:|--:|`. */
const TABLE_DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/

/** A row's cells: between its pipes (a `\|` is a pipe inside a cell). */
const cellsOf = (row: string): Array<string> => {
  const inner = row.trim().replace(/^\|/, "").replace(/(?<!\\)\|$/, "")
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"))
}

/** A Markdown table, aligned on the width the terminal draws each cell with, in box lines. */
export const renderTable = (rows: ReadonlyArray<string>, style: MarkdownStyle): string => {
  const aligns = cellsOf(rows[1]!).map((d) => (/^:-+:$/.test(d) ? "center" : /-:$/.test(d) ? "right" : "left"))
  const body = [rows[0]!, ...rows.slice(2)].map(cellsOf)
  const columns = Math.max(...body.map((r) => r.length))
  const drawn = body.map((r, i) =>
    Array.from({ length: columns }, (_, c) => {
      const text = renderInline(r[c] ?? "", style)
      return i === 0 ? style.heading.body(text) : text
    })
  )
  const widths = Array.from({ length: columns }, (_, c) => Math.max(1, ...drawn.map((r) => displayWidth(r[c]!))))
  const pad = (text: string, c: number) => {
    const room = widths[c]! - displayWidth(text)
    const align = aligns[c] ?? "left"
    const left = align === "right" ? room : align === "center" ? Math.floor(room / 2) : 0
    return " ".repeat(left) + text + " ".repeat(room - left)
  }
  const rule = (l: string, m: string, r: string) => style.dim(l + widths.map((w) => "─".repeat(w + 2)).join(m) + r)
  const line = (r: ReadonlyArray<string>) => style.dim("│") + r.map((cell, c) => ` ${pad(cell, c)} `).join(style.dim("│")) + style.dim("│")
  return [
    rule("┌", "┬", "┐"),
    line(drawn[0]!),
    rule("├", "┼", "┤"),
    ...drawn.slice(1).map(line),
    rule("└", "┴", "┘")
  ].map((l) => `${l}\n`).join("")
}

export const markdownStream = (style: MarkdownStyle): MarkdownStream => {
  let pending = ""
  let fence: { readonly marker: string } | undefined
  /** The kind of the line being written, and how much of it was shown already. */
  let current: Kind | undefined
  let shown = 0

  /** Decides what a line is from its start, as soon as its start is enough to tell. */
  const kindOf = (text: string, complete: boolean): Kind | undefined => {
    if (fence !== undefined) return { _tag: "whole" }
    // A table row: drawn with the rest of its table, once the table has ended.
    if (TABLE_ROW.test(text)) return { _tag: "whole" }
    const start = text.trimStart()
    if (start === "" || /^(```|~~~)/.test(start) || (!complete && /^(`{1,2}|~{1,2})$/.test(start))) {
      return complete || /^(```|~~~)/.test(start) ? { _tag: "whole" } : undefined
    }
    const heading = /^(#{1,6})\s+/.exec(text)
    // More spaces may follow "# " before the title starts: they belong to the prefix.
    if (heading !== null) return !complete && heading[0].length === text.length ? undefined : { _tag: "heading", prefix: heading[0] }
    if (/^#{1,6}$/.test(start)) return complete ? { _tag: "whole" } : undefined
    const quote = /^\s*>\s?/.exec(text)
    // "> " and ">" differ by the space, which may not have come yet.
    if (quote !== null) return !complete && quote[0].length === text.length && !quote[0].endsWith(" ") ? undefined : { _tag: "quote", prefix: quote[0] }
    const item = /^(\s*)([-*+]|\d+[.)])\s+(\[[ xX]\]\s+)?/.exec(text)
    if (item !== null) {
      // "- " could still be "- - -" (a rule) or "- [x] " (a task): wait for the next character that says.
      const after = text.slice(item[0].length)
      if (!complete && (after === "" || /^[-*_\s[]/.test(after) || (item[3] === undefined && /^\[[ xX]?\]?$/.test(after)))) return undefined
      return RULE.test(text) ? { _tag: "whole" } : { _tag: "item", prefix: item[0] }
    }
    if (/^\s*([-*_+]|\d+[.)]?)$/.test(text) || /^\s*([-*_])(\s*\1)*\s*$/.test(text)) return complete ? { _tag: "whole" } : undefined
    return { _tag: "paragraph", prefix: "" }
  }

  /** Rendered inline text in the style of its line: headings bold, quotes italic. */
  const styled = (kind: Kind, body: string): string =>
    kind._tag === "heading" ? style.heading.body(body) : kind._tag === "quote" ? style.italic(body) : body

  /**
   * The inline style inside a line whose whole body is styled: emphasis of the line's own kind is already on, and
   * its closing code would turn it off for the rest of the line (a quote's italics after `*a*`).
   */
  const none = (s: string) => s
  const quoteStyle: MarkdownStyle = { ...style, italic: none }
  const headingStyle: MarkdownStyle = style.heading.keepMarks ? style : { ...style, bold: none }
  const inlineStyle = (kind: Kind): MarkdownStyle =>
    kind._tag === "quote" ? quoteStyle : kind._tag === "heading" ? headingStyle : style

  const decorate = (kind: Kind, text: string): string => styled(kind, renderInline(text, inlineStyle(kind)))

  const opening = (kind: Kind): string => {
    switch (kind._tag) {
      case "heading":
        return style.heading.keepMarks ? kind.prefix : ""
      case "quote":
        return `${style.dim("│")} `
      case "item": {
        const [, indent, marker, task] = /^(\s*)([-*+]|\d+[.)])\s+(\[[ xX]\]\s+)?/.exec(kind.prefix)!
        const bullet = /\d/.test(marker!) ? marker! : "•"
        return `${indent}${bullet} ${task !== undefined ? (/x/i.test(task) ? "☑ " : "☐ ") : ""}`
      }
      default:
        return ""
    }
  }

  /** The rest of a line that was partly shown, or a whole line, rendered. */
  const finish = (text: string): string => {
    if (current === undefined) return line(text)
    const kind = current
    const at = shown
    current = undefined
    shown = 0
    return kind._tag === "whole" ? line(text) : continuation(kind, text, at, text.slice(at))
  }

  const line = (text: string): string => {
    const fenceMark = /^\s*(```+|~~~+)\s*([\w+#.-]*)/.exec(text)
    if (fenceMark !== null && (fence === undefined || fenceMark[1]!.startsWith(fence.marker[0]!))) {
      if (fence === undefined) {
        fence = { marker: fenceMark[1]! }
        return style.dim(fenceMark[2] ? `╭─ ${fenceMark[2]}` : "╭─")
      }
      fence = undefined
      return style.dim("╰─")
    }
    if (fence !== undefined) return `${style.dim("│")} ${highlight(text, style)}`
    const kind = kindOf(text, true)!
    if (kind._tag === "whole" || kind._tag === "paragraph") {
      return RULE.test(text) ? style.dim("─".repeat(40)) : renderInline(text, style)
    }
    return opening(kind) + decorate(kind, text.slice(kind.prefix.length))
  }

  /** Shows what can be shown of the line being written. */
  const partial = (): string => {
    if (current === undefined) {
      const kind = kindOf(pending, false)
      if (kind === undefined || kind._tag === "whole") return ""
      current = kind
      shown = kind.prefix.length
      const head = opening(kind)
      return head + partialBody()
    }
    return current._tag === "whole" ? "" : partialBody()
  }

  const partialBody = (linksSettled = false): string => {
    const kind = current!
    const length = safeLength(pending.slice(shown), linksSettled)
    if (length <= 0) return ""
    const piece = pending.slice(shown, shown + length)
    if (!settled(piece)) return ""
    const out = continuation(kind, pending, shown, piece)
    shown += length
    return out
  }

  /**
   * A piece of a line rendered after an earlier piece: unless that one ended with a space, its last character is read
   * with it (whether `*` or `_` opens, or `http` starts a link, depends on the character before).
   */
  const continuation = (kind: Kind, text: string, at: number, piece: string): string => {
    const before = text[at - 1]
    if (kind._tag === "whole" || at <= kind.prefix.length || before === undefined || /\s/.test(before)) return decorate(kind, piece)
    const body = renderInline(before + piece, inlineStyle(kind))
    if (!body.startsWith(before)) return decorate(kind, piece)
    return styled(kind, body.slice(before.length))
  }

  /** The rows of a table being received: it is drawn when a line that is not a row comes (or the answer ends). */
  let table: Array<string> = []

  /** The table received so far, drawn aligned when its second row is a delimiter row; else its lines as they are. */
  const drawTable = (): string => {
    if (table.length === 0) return ""
    const rows = table
    table = []
    if (rows.length >= 2 && TABLE_DELIMITER.test(rows[1]!)) return renderTable(rows, style)
    return rows.map((row) => `${line(row)}\n`).join("")
  }

  return {
    push: (text) => {
      pending += text
      let out = ""
      for (let cut = pending.indexOf("\n"); cut >= 0; cut = pending.indexOf("\n")) {
        const complete = pending.slice(0, cut)
        pending = pending.slice(cut + 1)
        if (fence === undefined && TABLE_ROW.test(complete)) {
          current = undefined
          shown = 0
          table.push(complete)
          continue
        }
        out += drawTable() + `${finish(complete)}\n`
      }
      // A line has begun that is no row: the table above it is complete.
      if (table.length > 0 && pending.trim() !== "" && !TABLE_ROW.test(pending) && !/^\s*$/.test(pending)) out += drawTable()
      return out + (table.length > 0 ? "" : partial())
    },
    flush: () => (current !== undefined && current._tag !== "whole" ? partialBody(true) : ""),
    end: () => {
      const last = pending
      pending = ""
      if (fence === undefined && TABLE_ROW.test(last)) {
        table.push(last)
        current = undefined
        return drawTable().replace(/\n$/, "")
      }
      const drawn = drawTable()
      return drawn + (last === "" && current === undefined ? "" : finish(last))
    }
  }
}
