import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { el, xmlDocument } from "../../../../src/platforms/kit/xml";

describe("the XML builder", () => {
  it("writes children and attributes in the order given, empty elements self-closed", () => {
    const xml = xmlDocument(
      el("Root", { b: "2", a: 1, skipped: undefined }, el("Z"), el("A", {}, "text")),
    );
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Root b="2" a="1"><Z/><A>text</A></Root>\n',
    );
  });

  it("escapes markup and line breaks and drops what XML 1.0 forbids, so a parser reads the value back", () => {
    const value = `a&b<c>"d'\te\nf\r\u0001g\uFFFE`;
    const xml = xmlDocument(el("R", { v: value }, value));
    expect(xml).toContain('v="a&amp;b&lt;c&gt;&quot;d&apos;&#9;e&#10;f&#13;g"');
    const parsed = new XMLParser({
      ignoreAttributes: false,
      trimValues: false,
      htmlEntities: true,
    }).parse(xml);
    expect(parsed.R["@_v"]).toBe(`a&b<c>"d'\te\nf\rg`);
    expect(parsed.R["#text"]).toBe(`a&b<c>"d'\te\nf\rg`);
  });
});
