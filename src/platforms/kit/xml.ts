import { XMLBuilder } from "fast-xml-parser";

/**
 * The one XML builder for every dialect the engine writes (OTA 2015B, Booking.com B.XML):
 * fast-xml-parser's `XMLBuilder` in its ordered form, so the element order an XSD sequence demands
 * is the order the children are written in, and attributes keep the order they are listed in.
 * Callers describe a tree with `el()` and serialise it with `xmlDocument()`; the XSD tests
 * (test/unit/platforms/booking-com/ota-xsd.test.ts) judge what comes out.
 */

export type XmlAttrs = Record<string, string | number | undefined>;

/** An element in the builder's ordered shape: `{ [name]: children, ":@": attributes }`. */
export type XmlNode = { [name: string]: XmlNode[] | string | Record<string, string> };

// eslint-disable-next-line no-control-regex -- these are the characters XML 1.0 forbids
const FORBIDDEN_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/**
 * Escape text for an attribute value or element content; drop characters XML 1.0 forbids. Tab,
 * newline and carriage return become character references, so attribute-value normalisation on
 * the other side does not turn them into spaces. The builder's own entity handling covers
 * neither, so it is switched off and this runs on every value instead.
 */
export function escapeXml(value: string): string {
  return value
    .replace(FORBIDDEN_XML_CHARS, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  // An element without children is written `<Name/>`.
  suppressEmptyNode: true,
  suppressBooleanAttributes: false,
  processEntities: false,
  attributeValueProcessor: (_name: string, value: unknown) => escapeXml(String(value)),
  tagValueProcessor: (_name: string, value: unknown) => escapeXml(String(value)),
});

/** `<name attrs/>`, or `<name attrs>children</name>`; undefined attributes are left out, text is escaped. */
export function el(name: string, attrs: XmlAttrs = {}, ...children: (XmlNode | string)[]): XmlNode {
  const present = Object.entries(attrs).filter(
    (e): e is [string, string | number] => e[1] !== undefined,
  );
  const node: XmlNode = {
    [name]: children.map((c) => (typeof c === "string" ? { "#text": c } : c)),
  };
  if (present.length > 0) node[":@"] = Object.fromEntries(present.map(([k, v]) => [k, String(v)]));
  return node;
}

/** Elements nested without attributes: `nested(["A", "B"], c)` is `<A><B>c</B></A>`. */
export function nested(names: readonly string[], ...children: (XmlNode | string)[]): XmlNode {
  const [outer, ...inner] = names;
  if (outer === undefined) throw new Error("nested() needs at least one element name");
  return el(outer, {}, ...(inner.length > 0 ? [nested(inner, ...children)] : children));
}

const DECLARATION: XmlNode = { "?xml": [], ":@": { version: "1.0", encoding: "UTF-8" } };

/** A whole document: the declaration, the root element, each on its own line. */
export function xmlDocument(root: XmlNode): string {
  return `${builder.build([DECLARATION])}\n${builder.build([root])}\n`;
}

// ---------------------------------------------------------------------------------------------
// Reading: walking what XMLParser returns with `attributeNamePrefix: "@"` (attributes as "@Name",
// text as "#text"), so an adapter asks for children and attributes without casts.

export type ParsedNode = Record<string, unknown>;

/** Element content as a node: text-only elements parse to plain strings, `<X/>` to "". */
export function asNode(v: unknown): ParsedNode | undefined {
  if (typeof v === "string") return { "#text": v };
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as ParsedNode) : undefined;
}

export function child(n: ParsedNode | undefined, name: string): ParsedNode | undefined {
  const v = n?.[name];
  return asNode(Array.isArray(v) ? v[0] : v);
}

export function children(n: ParsedNode | undefined, name: string): ParsedNode[] {
  const v = n?.[name];
  const list: unknown[] = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map(asNode).filter((x): x is ParsedNode => x !== undefined);
}

export function attr(n: ParsedNode | undefined, name: string): string | undefined {
  const v = n?.[`@${name}`];
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

export function text(n: ParsedNode | undefined): string | undefined {
  const v = n?.["#text"];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** A path of single children, e.g. path(res, "ResGlobalInfo", "Total"). */
export function path(n: ParsedNode | undefined, ...names: string[]): ParsedNode | undefined {
  return names.reduce<ParsedNode | undefined>((cur, name) => child(cur, name), n);
}
