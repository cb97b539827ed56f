// Markdown for model answers, built as DOM nodes. A model's text only ever becomes text nodes
// (through h()'s children, i.e. textContent): nothing it writes is parsed as HTML, and links
// keep only http(s) and mailto targets. Covers what chat models write: fenced code blocks,
// headings, bullet and numbered lists (nested by indentation), block quotes, tables, rules,
// paragraphs, and inline `code`, **bold**, *italic*, ~~strike~~, [links](https://...) and bare
// https:// URLs.

const MD_FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const MD_HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const MD_RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const MD_QUOTE = /^ {0,3}> ?/;
const MD_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const MD_TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
const MD_SAFE_URL = /^(https?:\/\/|mailto:)/i;
const MD_ESCAPABLE = /[\\`*_~[\]()#>+\-.!|]/;

function mdInline(text) {
  const nodes = [];
  let plain = "";
  const flush = () => {
    if (plain) nodes.push(document.createTextNode(plain));
    plain = "";
  };
  const emit = (node, length) => {
    flush();
    nodes.push(node);
    return length;
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const wordBefore = i > 0 && /\w/.test(text[i - 1]);
    let m;
    if (rest[0] === "\\" && rest.length > 1 && MD_ESCAPABLE.test(rest[1])) {
      plain += rest[1];
      i += 2;
    } else if ((m = /^(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/.exec(rest))) {
      i += emit(h("code", {}, m[2]), m[0].length);
    } else if ((m = /^\*\*(?=\S)([\s\S]*?\S)\*\*/.exec(rest))
      || (!wordBefore && (m = /^__(?=\S)([\s\S]*?\S)__(?!\w)/.exec(rest)))) {
      i += emit(h("strong", {}, mdInline(m[1])), m[0].length);
    } else if ((m = /^~~(?=\S)([\s\S]*?\S)~~/.exec(rest))) {
      i += emit(h("del", {}, mdInline(m[1])), m[0].length);
    } else if ((m = /^([*_])(?=[^\s*_])([\s\S]*?[^\s\\*_])\1(?![*_\w])/.exec(rest)) && !(m[1] === "_" && wordBefore)) {
      i += emit(h("em", {}, mdInline(m[2])), m[0].length);
    } else if ((m = /^\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?\s*\)/.exec(rest))) {
      const node = MD_SAFE_URL.test(m[2])
        ? h("a", { href: m[2], target: "_blank", rel: "noopener noreferrer" }, mdInline(m[1]))
        : document.createTextNode(m[0]);
      i += emit(node, m[0].length);
    } else if (!wordBefore && (m = /^https?:\/\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]]/.exec(rest))) {
      i += emit(h("a", { href: m[0], target: "_blank", rel: "noopener noreferrer" }, m[0]), m[0].length);
    } else {
      plain += rest[0];
      i += 1;
    }
  }
  flush();
  return nodes;
}

// Inline Markdown of a paragraph's lines, with their line breaks kept.
function mdLines(lines) {
  const nodes = [];
  lines.forEach((line, n) => {
    if (n > 0) nodes.push(h("br"));
    nodes.push(...mdInline(line.trim()));
  });
  return nodes;
}

function mdStartsBlock(line) {
  return MD_FENCE.test(line) || MD_HEADING.test(line) || MD_RULE.test(line)
    || MD_QUOTE.test(line) || MD_ITEM.test(line);
}

function mdCells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

function mdTable(lines, start) {
  const header = mdCells(lines[start]);
  const body = [];
  let i = start + 2;
  while (i < lines.length && lines[i].includes("|") && lines[i].trim()) {
    body.push(mdCells(lines[i]));
    i += 1;
  }
  const row = (cells, tag) => h("tr", {}, header.map((_, k) => h(tag, {}, mdInline(cells[k] ?? ""))));
  const table = h("table", { class: "tf-md-table" },
    h("thead", {}, row(header, "th")), h("tbody", {}, body.map((cells) => row(cells, "td"))));
  return [h("div", { class: "tf-md-table-wrap" }, table), i];
}

function mdList(lines, start) {
  const first = MD_ITEM.exec(lines[start]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = h(ordered ? "ol" : "ul");
  if (ordered && parseInt(first[2], 10) !== 1) list.start = parseInt(first[2], 10);
  let item = null;
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const m = MD_ITEM.exec(line);
    if (m && m[1].length === indent && /\d/.test(m[2]) === ordered) {
      item = h("li", {}, mdInline(m[3]));
      list.append(item);
      i += 1;
    } else if (m && m[1].length > indent && item) {
      const [sub, next] = mdList(lines, i);
      item.append(sub);
      i = next;
    } else if (!m && item && /^\s+\S/.test(line) && !MD_FENCE.test(line)) {
      item.append(h("br"), ...mdInline(line.trim()));
      i += 1;
    } else {
      break;
    }
  }
  return [list, i];
}

// DOM nodes for a Markdown text.
function renderMarkdown(source) {
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if ((m = MD_FENCE.exec(line))) {
      const fence = m[1];
      const code = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) {
        code.push(lines[i]);
        i += 1;
      }
      i += 1; // the closing fence (a streaming answer may not have it yet)
      out.push(h("pre", { class: "tf-md-code", "data-lang": m[2] || null },
        h("code", {}, code.join("\n"))));
    } else if (!line.trim()) {
      i += 1;
    } else if ((m = MD_HEADING.exec(line))) {
      out.push(h(`h${m[1].length}`, { class: "tf-md-heading" }, mdInline(m[2])));
      i += 1;
    } else if (MD_RULE.test(line)) {
      out.push(h("hr"));
      i += 1;
    } else if (MD_QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && MD_QUOTE.test(lines[i])) {
        quoted.push(lines[i].replace(MD_QUOTE, ""));
        i += 1;
      }
      out.push(h("blockquote", {}, renderMarkdown(quoted.join("\n"))));
    } else if (MD_ITEM.test(line)) {
      const [list, next] = mdList(lines, i);
      out.push(list);
      i = next;
    } else if (line.includes("|") && i + 1 < lines.length && MD_TABLE_RULE.test(lines[i + 1])) {
      const [table, next] = mdTable(lines, i);
      out.push(table);
      i = next;
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && (para.length === 0 || !mdStartsBlock(lines[i]))) {
        para.push(lines[i]);
        i += 1;
      }
      out.push(h("p", {}, mdLines(para)));
    }
  }
  return out;
}
