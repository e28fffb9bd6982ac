import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * Migrations are append-only: a database that already ran a migration never runs it again, so an
 * edited migration silently leaves production on a schema the code no longer describes. A schema
 * change is therefore a new file. `migrations/checksums.json` records the SHA-256 of every
 * committed migration; this test fails when one of them changes, disappears, or a new one is not
 * yet recorded.
 */

const dir = new URL("../../../migrations/", import.meta.url);
const recorded = JSON.parse(readFileSync(new URL("checksums.json", dir), "utf8")) as Record<
  string,
  string
>;
const files = readdirSync(dir)
  .filter((name) => name.endsWith(".sql"))
  .sort();

// Line endings are normalised so that a Windows checkout (core.autocrlf) hashes the same bytes.
const sha256 = (name: string) =>
  createHash("sha256")
    .update(readFileSync(new URL(name, dir), "utf8").replace(/\r\n/g, "\n"))
    .digest("hex");

const howToRecord = (name: string) =>
  `${name} is not in migrations/checksums.json. Once the migration is final (applied nowhere ` +
  `yet, reviewed), record it by adding "${name}": "${sha256(name)}" to migrations/checksums.json.`;

describe("migration history", () => {
  it.each(files)("%s is recorded in migrations/checksums.json", (name) => {
    expect(recorded[name], howToRecord(name)).toBeDefined();
  });

  it.each(Object.keys(recorded))("%s is unchanged since it was recorded", (name) => {
    expect(files, `${name} was recorded but is gone: migrations are never deleted`).toContain(name);
    expect(
      sha256(name),
      `${name} changed after it was committed. Migrations are append-only: revert the edit ` +
        `and put the change in a new migration file (npm run db:generate).`,
    ).toBe(recorded[name]);
  });
});
