import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PLATFORM_ALIASES, PLATFORM_IDS } from "../../src/platforms/ids";

/**
 * One platform, one folder (STYLE.md rule 1): a platform id or alias written as a string literal
 * may appear only in its own folders — src/platforms/<folder>/, sandbox/src/<folder>/ and the
 * bench's descriptor scripts/bench/platforms/<folder>.mjs (the folder is the id with "-" for "_":
 * booking_com → booking-com). Everything else asks the registry (or, in the bench, the
 * descriptors). Scanned: src/, durable-objects/, sandbox/src/ and scripts/. Tests, and the demo's
 * seed data (scripts/demo-seed.sql), may name platforms.
 */

const ROOTS = ["src", "durable-objects", "sandbox/src", "scripts"];
const NAMES: ReadonlyMap<string, string> = new Map([
  ...PLATFORM_IDS.map((id) => [id, id] as const),
  // An alias belongs to its platform's folder.
  ...PLATFORM_ALIASES.map((alias) => [alias, "fewo_direkt"] as const),
]);

const folderOf = (id: string) => id.replaceAll("_", "-");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** String literals (and template text) in a file, with their line numbers. */
export function stringLiterals(file: string, text: string): Array<{ value: string; line: number }> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Array<{ value: string; line: number }> = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push({ value: node.text, line });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Where a platform may be named: its adapter, its simulator, its bench descriptor. */
const ownFolders = (folder: string) => [
  `src/platforms/${folder}/`,
  `sandbox/src/${folder}/`,
  `scripts/bench/platforms/${folder}.mjs`,
];

/** Where a file names a platform outside that platform's folder: "path:line "id"". */
export function misplacedPlatformNames(file: string, text: string): string[] {
  const path = relative(process.cwd(), file).split(sep).join("/");
  return stringLiterals(file, text).flatMap(({ value, line }) => {
    // An SQL or other text literal naming a platform as a word counts too: 'airbnb' in a query.
    const named = [...NAMES.keys()].filter(
      (name) => value === name || new RegExp(`'${name}'`).test(value),
    );
    return named
      .filter((name) => !ownFolders(folderOf(NAMES.get(name)!)).some((own) => path.startsWith(own)))
      .map((name) => `${path}:${line} "${name}"`);
  });
}

describe("architecture", () => {
  it("no platform id appears as a string literal outside its own folder", () => {
    const offenders = ROOTS.flatMap(filesUnder).flatMap((file) =>
      misplacedPlatformNames(file, readFileSync(file, "utf8")),
    );
    expect(offenders).toEqual([]);
  });

  it("the check sees literals in code, SQL text and templates, and allows the platform's folder", () => {
    const code = [
      `if (platform === "airbnb") go();`,
      "const q = `SELECT 1 WHERE platform = 'beds24'`;",
      `const ok = "airbnb_webhook"; // not an id`,
      `const alias = 'vrbo';`,
    ].join("\n");
    expect(misplacedPlatformNames("src/routes/x.ts", code)).toEqual([
      `src/routes/x.ts:1 "airbnb"`,
      `src/routes/x.ts:2 "beds24"`,
      `src/routes/x.ts:4 "vrbo"`,
    ]);
    expect(misplacedPlatformNames("src/platforms/airbnb/x.ts", code)).toEqual([
      `src/platforms/airbnb/x.ts:2 "beds24"`,
      `src/platforms/airbnb/x.ts:4 "vrbo"`,
    ]);
    expect(
      misplacedPlatformNames("src/platforms/fewo-direkt/id.ts", `export const A = "vrbo";`),
    ).toEqual([]);
    expect(misplacedPlatformNames("sandbox/src/beds24/x.ts", code)).toEqual([
      `sandbox/src/beds24/x.ts:1 "airbnb"`,
      `sandbox/src/beds24/x.ts:4 "vrbo"`,
    ]);
    expect(misplacedPlatformNames("scripts/bench/platforms/airbnb.mjs", code)).toEqual([
      `scripts/bench/platforms/airbnb.mjs:2 "beds24"`,
      `scripts/bench/platforms/airbnb.mjs:4 "vrbo"`,
    ]);
    expect(misplacedPlatformNames("scripts/bench/flood.mjs", code)).toHaveLength(3);
  });

  it("SQL lives in store/: no `.prepare(` outside src/store/ (STYLE.md rule 3)", () => {
    const outside = ["src", "durable-objects"]
      .flatMap(filesUnder)
      .filter(
        (file) => !relative(process.cwd(), file).split(sep).join("/").startsWith("src/store/"),
      )
      .filter((file) => /\.prepare\(/.test(readFileSync(file, "utf8")));
    expect(outside).toEqual([]);
  });
});
