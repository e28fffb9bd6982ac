import { XMLParser, XMLValidator } from "fast-xml-parser";

/**
 * Strict reading of the XML documents the simulator receives, on fast-xml-parser: the document
 * must pass `XMLValidator`, may not carry a DOCTYPE or any other markup declaration (so no entity
 * can be declared, let alone expanded), and must have exactly one root element. Errors carry a
 * line number where the check knows one.
 */

/**
 * A parsed element: attributes under `@_<name as written>`, child elements under their name as
 * written (prefix included), a single child as a value or several as an array, and character data
 * under `#text`.
 */
export type XmlNode = Record<string, unknown>;

export interface XmlDocument {
  /** Local name of the root element, without prefix. */
  name: string;
  /** Namespace URI of the root element, or null when it has none. */
  namespace: string | null;
  root: XmlNode;
}

export class XmlError extends Error {
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = "XmlError";
  }
}

const ATTR = "@_";
const TEXT = "#text";

function localName(qname: string): string {
  return qname.slice(qname.indexOf(":") + 1);
}

function lineAt(src: string, index: number): number {
  return src.slice(0, index).split("\n").length;
}

/** A bare `<!` (DOCTYPE, ENTITY, ...); comments and CDATA sections are skipped over. */
const DECLARATION = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<!/g;

function refuseDeclarations(src: string): void {
  for (const m of src.matchAll(DECLARATION)) {
    if (m[0] !== "<!") continue;
    const what = src.startsWith("<!DOCTYPE", m.index) ? "DOCTYPE" : "markup";
    throw new XmlError(`${what} declarations are not allowed`, lineAt(src, m.index));
  }
}

/** Element content as a node: elements with neither attributes nor children parse to strings. */
function asNode(value: unknown): XmlNode | undefined {
  if (typeof value === "string") return { [TEXT]: value };
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as XmlNode)
    : undefined;
}

/**
 * Parse a whole document. `repeated` names the elements (by local name) that may occur more than
 * once: they always parse to arrays, whether one or many were sent.
 */
export function parseXml(src: string, repeated: ReadonlySet<string>): XmlDocument {
  const valid = XMLValidator.validate(src);
  if (valid !== true) throw new XmlError(valid.err.msg, valid.err.line);
  refuseDeclarations(src);

  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: ATTR,
    textNodeName: TEXT,
    // removeNSPrefix would also drop the xmlns declarations the namespace check reads; children
    // are looked up by local name instead.
    removeNSPrefix: false,
    // Only the predefined XML entities (&lt; &amp; ...): with declarations refused above, no
    // other entity can exist, so nothing is expanded.
    processEntities: true,
    htmlEntities: false,
    // Values stay strings, exactly as written.
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (tagName, _path, _leaf, isAttribute) =>
      !isAttribute && repeated.has(localName(tagName)),
  });
  const doc = parser.parse(src) as XmlNode;

  const roots = Object.entries(doc).flatMap(([qname, value]) =>
    qname === TEXT ? [] : (Array.isArray(value) ? value : [value]).map((v) => [qname, v] as const),
  );
  if (roots.length !== 1) throw new XmlError("exactly one root element expected");
  const [qname, value] = roots[0]!;
  const root = asNode(value) ?? {};
  // The root is outermost: its namespace can only be declared on itself.
  const colon = qname.indexOf(":");
  const declaration = colon < 0 ? "xmlns" : `xmlns:${qname.slice(0, colon)}`;
  const namespace = root[`${ATTR}${declaration}`];
  return {
    name: localName(qname),
    namespace: typeof namespace === "string" && namespace !== "" ? namespace : null,
    root,
  };
}

/** Direct children with this local name, whatever their prefix. */
export function childElements(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node) return [];
  return Object.entries(node)
    .filter(([key]) => !key.startsWith(ATTR) && key !== TEXT && localName(key) === name)
    .flatMap(([, value]) => (Array.isArray(value) ? (value as unknown[]) : [value]))
    .map(asNode)
    .filter((n): n is XmlNode => n !== undefined);
}

export function childElement(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return childElements(node, name)[0];
}

/** An attribute by its name as written. */
export function attribute(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[`${ATTR}${name}`];
  return typeof value === "string" ? value : undefined;
}

/** The character data directly inside an element, trimmed ("" for an empty element). */
export function textContent(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined;
  const text = node[TEXT];
  return typeof text === "string" ? text.trim() : "";
}
