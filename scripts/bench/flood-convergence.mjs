// The flood's convergence: every sandbox polled until each changed date shows the engine's truth.
import { sandboxCall } from "../lib/stack.mjs";
import { decimalToMinor } from "./flood-model.mjs";
import { PLATFORMS } from "./platforms/index.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The changed dates the platform's calendar does not show as the engine's truth: availability
 * as sellable or not, prices compared in minor units.
 */
function mismatches(days, changed, truth) {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const wrong = [];
  let lastWrite = null;
  for (const [aspect, dates] of Object.entries(changed)) {
    for (const date of dates) {
      const day = byDate.get(date);
      const want = truth.get(date);
      if (day?.updated_at) lastWrite = Math.max(lastWrite ?? 0, day.updated_at);
      const ok =
        aspect === "availability"
          ? day?.available === want.available > 0
          : decimalToMinor(day?.price) === want.price_minor;
      if (!ok) wrong.push({ date, aspect });
    }
  }
  return { wrong, lastWrite };
}

/** Poll every sandbox until every changed date shows the truth, or the deadline passes. */
export async function awaitConvergence({
  sandboxUrl,
  house,
  changed,
  truth,
  t0,
  timeoutMs,
  pollMs,
  progress,
}) {
  const allChanged = [...new Set([...changed.availability, ...changed.price])].sort();
  const conv = Object.fromEntries(
    PLATFORMS.map((p) => [p.id, { at: null, lastWrite: null, wrong: allChanged.length * 2 }]),
  );
  const deadline = t0 + timeoutMs;
  let nextNote = Date.now() + 10_000;
  while (allChanged.length > 0) {
    const open = PLATFORMS.filter((p) => conv[p.id].at === null);
    if (open.length === 0 || Date.now() > deadline) break;
    await Promise.all(
      open.map(async (p) => {
        const path = p.calendarPath(house, allChanged[0], allChanged.at(-1));
        const cal = await sandboxCall(sandboxUrl, "GET", path);
        const seenAt = Date.now();
        const m = mismatches(cal.days, changed, truth);
        conv[p.id].wrong = m.wrong.length;
        if (m.wrong.length === 0) {
          conv[p.id].at = seenAt;
          conv[p.id].lastWrite = m.lastWrite;
          progress(`  ${p.label} converged ${((seenAt - t0) / 1000).toFixed(1)} s after t0`);
        }
      }),
    );
    if (Date.now() > nextNote) {
      nextNote += 10_000;
      const waiting = PLATFORMS.filter((p) => conv[p.id].at === null)
        .map((p) => `${p.label} ${conv[p.id].wrong} date(s) to go`)
        .join(", ");
      progress(`  ${Math.round((Date.now() - t0) / 1000)} s: ${waiting}`);
    }
    await sleep(pollMs);
  }
  if (allChanged.length === 0) for (const p of PLATFORMS) conv[p.id].at = t0;
  return conv;
}
