import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/**
 * The guards in eslint.config.js fire: each snippet is linted as if it lived at a path in the
 * tree (the file need not exist; what it imports does, since the boundary rule follows imports).
 */
const eslint = new ESLint({ cwd: new URL("../..", import.meta.url).pathname });

async function rulesBroken(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe("lint guards", { timeout: 30_000 }, () => {
  it.each([
    [
      "src/domain/zz-probe.ts",
      'import { bytesToHex } from "../lib/encoding";\nexport const f = bytesToHex;\n',
    ],
    [
      "src/platforms/zz-probe.ts",
      'import { dispositionFor } from "../queue/retry-policy";\nexport const f = dispositionFor;\n',
    ],
    [
      "sandbox/src/zz-probe.ts",
      'import { bytesToHex } from "../../src/lib/encoding";\nexport const f = bytesToHex;\n',
    ],
  ])("%s may not import across its boundary", async (filePath, code) => {
    expect(await rulesBroken(filePath, code)).toContain("import-x/no-restricted-paths");
  });

  it("lets domain/ import domain/", async () => {
    const code = 'import { addDays } from "./dates";\nexport const f = addDays;\n';
    expect(await rulesBroken("src/domain/zz-probe.ts", code)).toEqual([]);
  });

  it("holds engine files to 400 lines and functions to 60", async () => {
    const body = Array.from({ length: 70 }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const fn = `export function long(): number {\n${body}\n  return v0;\n}\n`;
    const broken = await rulesBroken("src/lib/zz-probe.ts", fn + "\n".repeat(400));
    expect(broken).toContain("max-lines");
    expect(broken).toContain("max-lines-per-function");
  });
});
