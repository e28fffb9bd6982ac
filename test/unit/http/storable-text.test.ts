import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findUnstorableText, storableTextProblem } from "../../../src/http/storable-text";

/** Well-formed text: whole code points (surrogate pairs stay together), no NUL. */
const wellFormed = fc
  .string({ unit: "grapheme", maxLength: 40 })
  .map((s) => s.replaceAll("\u0000", ""));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

describe("storable text", () => {
  it("accepts every well-formed string without NUL", () => {
    fc.assert(fc.property(wellFormed, (s) => storableTextProblem(s) === null));
  });

  it("refuses a lone surrogate wherever it sits, unless it completes a pair", () => {
    fc.assert(
      fc.property(wellFormed, loneSurrogate, wellFormed, (a, lone, b) => {
        const s = a + lone + b;
        // A high surrogate followed by a low one (or the reverse order across the join) is a pair.
        const pairs = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;
        const joined = (a.slice(-1) + lone + b.slice(0, 1)).match(pairs);
        return joined ? true : storableTextProblem(s) !== null;
      }),
    );
  });

  it("names the path of the first bad string in a body, keys included", () => {
    expect(findUnstorableText({ a: ["ok", { name: "x\ud800" }] })).toEqual({
      path: "a.1.name",
      message: expect.stringContaining("lone UTF-16 surrogate"),
    });
    expect(findUnstorableText({ ["k\udc00"]: 1 })?.path).toBe("k\udc00");
    expect(findUnstorableText({ a: [1, true, null, "fine 🏖️"] })).toBeNull();
  });
});
