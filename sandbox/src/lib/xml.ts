/**
 * A small strict XML parser for the OTA messages the simulator receives. fast-xml-parser cannot
 * be bundled with platform "neutral" (its dependencies only declare "main"), and a platform must
 * refuse what is not well-formed anyway. No DTDs (so no entity expansion attacks), namespaces
 * resolved, errors carry a line number.
 */

export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  /** Namespace URI, or null when none is in scope. */
  namespace: string | null;
  /** Attributes by their name as written (namespace declarations included). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "XmlError";
  }
}

const NAME = /[A-Za-z_:\u00C0-\uFFFF][\w.\-:\u00B7\u00C0-\uFFFF]*/y;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

interface RawElement {
  at: number;
  qname: string;
  attrs: Record<string, string>;
  children: RawElement[];
  text: string;
}

class Scanner {
  pos = 0;
  constructor(readonly src: string) {}

  fail(message: string, at = this.pos): never {
    throw new XmlError(message, this.src.slice(0, at).split("\n").length);
  }
  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }
  expect(s: string): void {
    if (!this.startsWith(s)) this.fail(`expected "${s}"`);
    this.pos += s.length;
  }
  skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.src.length && " \t\r\n".includes(this.src[this.pos]!)) this.pos++;
    return this.pos > start;
  }
  name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (!m) this.fail("expected a name");
    this.pos += m[0].length;
    return m[0];
  }
  until(end: string, what: string): string {
    const i = this.src.indexOf(end, this.pos);
    if (i < 0) this.fail(`unterminated ${what}`);
    const body = this.src.slice(this.pos, i);
    this.pos = i + end.length;
    return body;
  }
}

function decode(s: Scanner, raw: string, at: number): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(";")) s.fail("unterminated entity reference", at);
    if (ref.startsWith("#")) {
      const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff)
        s.fail(`bad character reference &${ref};`, at);
      return String.fromCodePoint(code);
    }
    const value = PREDEFINED[ref];
    if (value === undefined) s.fail(`undeclared entity &${ref};`, at);
    return value;
  });
}

/** Comments and processing instructions; returns false when neither starts here. */
function misc(s: Scanner): boolean {
  if (s.startsWith("<!--")) {
    s.pos += 4;
    if (s.until("-->", "comment").includes("--")) s.fail('"--" inside a comment');
    return true;
  }
  if (s.startsWith("<?")) {
    s.pos += 2;
    if (s.name().toLowerCase() === "xml") s.fail("XML declaration only allowed at the start");
    s.until("?>", "processing instruction");
    return true;
  }
  return false;
}

function element(s: Scanner): RawElement {
  const start = s.pos;
  s.expect("<");
  const qname = s.name();
  const attrs: Record<string, string> = {};
  for (;;) {
    const spaced = s.skipSpace();
    if (s.startsWith("/>")) {
      s.pos += 2;
      return { at: start, qname, attrs, children: [], text: "" };
    }
    if (s.startsWith(">")) {
      s.pos += 1;
      break;
    }
    if (!spaced) s.fail("expected whitespace between attributes");
    const at = s.pos;
    const name = s.name();
    s.skipSpace();
    s.expect("=");
    s.skipSpace();
    const quote = s.src[s.pos];
    if (quote !== '"' && quote !== "'") s.fail(`attribute ${name} needs a quoted value`);
    s.pos += 1;
    const raw = s.until(quote, "attribute value");
    if (raw.includes("<")) s.fail(`"<" in the value of attribute ${name}`, at);
    if (name in attrs) s.fail(`duplicate attribute ${name}`, at);
    attrs[name] = decode(s, raw, at).replace(/[\t\r\n]/g, " ");
  }
  const el: RawElement = { at: start, qname, attrs, children: [], text: "" };
  for (;;) {
    if (s.pos >= s.src.length) s.fail(`element ${qname} is not closed`);
    if (s.startsWith("</")) {
      s.pos += 2;
      const closing = s.name();
      if (closing !== qname) s.fail(`expected </${qname}> but found </${closing}>`);
      s.skipSpace();
      s.expect(">");
      return el;
    }
    if (s.startsWith("<![CDATA[")) {
      s.pos += 9;
      el.text += s.until("]]>", "CDATA section");
    } else if (misc(s)) {
      // Comments and processing instructions carry no content.
    } else if (s.startsWith("<!")) {
      s.fail("declarations are not allowed inside elements");
    } else if (s.startsWith("<")) {
      el.children.push(element(s));
    } else {
      const at = s.pos;
      const next = s.src.indexOf("<", s.pos);
      const raw = s.src.slice(s.pos, next < 0 ? s.src.length : next);
      if (raw.includes("]]>")) s.fail('"]]>" in character data', at);
      s.pos += raw.length;
      el.text += decode(s, raw, at);
    }
  }
}

function resolve(raw: RawElement, scope: Map<string, string>, s: Scanner): XmlElement {
  let inner = scope;
  for (const [name, value] of Object.entries(raw.attrs)) {
    if (name === "xmlns" || name.startsWith("xmlns:")) {
      if (inner === scope) inner = new Map(scope);
      inner.set(name === "xmlns" ? "" : name.slice(6), value);
    }
  }
  const colon = raw.qname.indexOf(":");
  const prefix = colon >= 0 ? raw.qname.slice(0, colon) : "";
  const namespace = inner.get(prefix) ?? null;
  if (prefix && namespace === null) s.fail(`namespace prefix "${prefix}" is not declared`, raw.at);
  return {
    name: colon >= 0 ? raw.qname.slice(colon + 1) : raw.qname,
    namespace: namespace || null,
    attrs: raw.attrs,
    children: raw.children.map((c) => resolve(c, inner, s)),
    text: raw.text,
  };
}

/** Parse a whole document: optional declaration, comments, exactly one root element. */
export function parseXml(src: string): XmlElement {
  const s = new Scanner(src.replace(/^\uFEFF/, ""));
  if (s.startsWith("<?xml") && " \t\r\n?".includes(s.src[5] ?? ""))
    s.until("?>", "XML declaration");
  for (;;) {
    s.skipSpace();
    if (s.startsWith("<!DOCTYPE")) s.fail("DOCTYPE declarations are not allowed");
    if (!misc(s)) break;
  }
  if (!s.startsWith("<"))
    s.fail(s.pos >= s.src.length ? "no root element" : "content before the root element");
  const root = element(s);
  for (;;) {
    s.skipSpace();
    if (s.pos >= s.src.length) break;
    if (!misc(s)) s.fail("content after the root element");
  }
  return resolve(root, new Map(), s);
}

/** Direct children with this local name. */
export function childElements(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

export function childElement(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return childElements(el, name)[0];
}
