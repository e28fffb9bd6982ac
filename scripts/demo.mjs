// `npm run demo`: a scripted scenario on its own local stack (ports 8797/8798, fresh state).
// Prints each step with the measured propagation time; exits 0 only if every check held.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO, queryD1, sandboxCall, startStack } from "./lib/stack.mjs";

const results = [];
function check(name, ok, detail = "") {
  results.push({ name, ok });
  console.log(`  ${ok ? "✔" : "✘"} ${name}${detail ? ` — ${detail}` : ""}`);
}

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const nights = (from, to) => Array.from({ length: to - from }, (_, i) => day(from + i));

async function waitFor(fn, timeoutMs = 15_000) {
  const start = performance.now();
  for (;;) {
    if (await fn()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) return null;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const persistTo = mkdtempSync(join(tmpdir(), "channel-demo-"));
console.log("Starting a fresh local stack for the demo (engine :8797, sandbox :8798)…");
const stack = await startStack({
  enginePort: 8797,
  sandboxPort: 8798,
  persistTo,
  logDir: join(persistTo, "logs"),
  inspectorBase: 9239,
});
const { sandboxUrl } = stack;
const house = DEMO.seehaus;

const bookingComClosed = async (from, to) => {
  const cal = await sandboxCall(
    sandboxUrl,
    "GET",
    `/_sandbox/booking_com/hotels/${house.hotelId}/rooms/${house.roomId}/calendar?start=${day(from)}&end=${day(to - 1)}`,
  );
  return cal.days.filter((d) => !d.available).map((d) => d.date);
};
const airbnbClosed = async (from, to) => {
  const cal = await sandboxCall(
    sandboxUrl,
    "GET",
    `/_sandbox/airbnb/listings/${house.airbnbListing}/calendar?start=${day(from)}&end=${day(to - 1)}`,
  );
  return cal.days.filter((d) => !d.available).map((d) => d.date);
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const ms = (t) => (t === null ? "timed out" : `propagated in ${t.toFixed(0)} ms`);

try {
  console.log(`\n1. A guest books "Haus am See" on Airbnb for ${day(20)} → ${day(23)}`);
  const t0 = performance.now();
  const a = await sandboxCall(sandboxUrl, "POST", "/_sandbox/airbnb/reservations", {
    listing_id: house.airbnbListing,
    start_date: day(20),
    end_date: day(23),
    guest_name: "Ada Lovelace",
  });
  const code = a.reservation.confirmation_code;
  check(
    "the engine accepted the signed webhook",
    a.deliveries[0]?.status === 202,
    `HTTP ${a.deliveries[0]?.status}`,
  );
  const closedT = await waitFor(async () => same(await bookingComClosed(19, 25), nights(20, 23)));
  const elapsed1 = closedT === null ? null : performance.now() - t0;
  const rows = queryD1(
    persistTo,
    `SELECT status, check_in, check_out FROM bookings WHERE channel_booking_id = '${code}'`,
  );
  check(
    `booking ${code} is in D1`,
    rows.length === 1 && rows[0].status === "confirmed",
    JSON.stringify(rows[0] ?? null),
  );
  check("the same nights are closed on Booking.com", elapsed1 !== null, ms(elapsed1));

  console.log(
    `\n2. A guest books on Booking.com for ${day(30)} → ${day(32)}, then moves to ${day(33)} → ${day(35)}`,
  );
  const t1 = performance.now();
  const b = await sandboxCall(sandboxUrl, "POST", "/_sandbox/booking_com/reservations", {
    hotel_id: house.hotelId,
    room_id: house.roomId,
    start_date: day(30),
    end_date: day(32),
    guest_name: "Alan Turing",
  });
  const resId = b.reservation.reservation_id;
  const closed2 = await waitFor(async () => same(await airbnbClosed(29, 36), nights(30, 32)));
  check(
    "the Booking.com nights are closed on Airbnb",
    closed2 !== null,
    ms(closed2 === null ? null : performance.now() - t1),
  );
  const t2 = performance.now();
  await sandboxCall(sandboxUrl, "POST", `/_sandbox/booking_com/reservations/${resId}/modify`, {
    start_date: day(33),
    end_date: day(35),
  });
  const moved = await waitFor(async () => same(await airbnbClosed(29, 36), nights(33, 35)));
  check(
    "the modification moved them on Airbnb (old nights open, new closed)",
    moved !== null,
    ms(moved === null ? null : performance.now() - t2),
  );

  console.log("\n3. The Booking.com guest cancels");
  const t3 = performance.now();
  await sandboxCall(sandboxUrl, "POST", `/_sandbox/booking_com/reservations/${resId}/cancel`);
  const reopened = await waitFor(async () => (await airbnbClosed(29, 36)).length === 0);
  check(
    "the nights are open again on Airbnb",
    reopened !== null,
    ms(reopened === null ? null : performance.now() - t3),
  );

  console.log(
    "\n4. Airbnb delivers the first webhook again (duplicate), and a forged copy arrives",
  );
  const original = a.deliveries[0];
  const engineCalendarBefore = await bookingComClosed(19, 25);
  const dup = await fetch(original.url, {
    method: "POST",
    headers: { ...original.headers, connection: "close" },
    body: original.body,
  });
  const forged = await fetch(original.url, {
    method: "POST",
    headers: { ...original.headers, connection: "close" },
    body: original.body.replace('"event_type"', '"event_type" '),
  });
  check(
    "the duplicate is accepted (202) so the sender stops retrying",
    dup.status === 202,
    `HTTP ${dup.status}`,
  );
  check(
    "the tampered copy is refused",
    forged.status === 401,
    `HTTP ${forged.status} ${(await forged.text()).slice(0, 80)}`,
  );
  await new Promise((r) => setTimeout(r, 1500));
  const count = queryD1(
    persistTo,
    `SELECT count(*) AS n FROM bookings WHERE channel_booking_id = '${code}'`,
  )[0].n;
  const dupEvents = queryD1(
    persistTo,
    `SELECT duplicates FROM channel_events WHERE idempotency_key = 'airbnb:${JSON.parse(original.body).event_id}'`,
  )[0];
  check(
    "still exactly one booking; the duplicate was recorded and ignored",
    count === 1 && dupEvents?.duplicates === 1,
    `bookings=${count}, duplicates=${dupEvents?.duplicates}`,
  );
  check(
    "Booking.com calendar unchanged",
    same(await bookingComClosed(19, 25), engineCalendarBefore),
  );

  console.log(
    "\n5. Another agency (ten_kueste) tries to map the lake house's Airbnb listing onto its flat",
  );
  const api = (token, method, path, body) =>
    fetch(`${stack.engineUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        connection: "close",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  // A new room type of its own (its flat is already mapped to its own listing).
  const studio = await (
    await api(DEMO.tokens.kuesteAdmin, "POST", "/api/v1/properties/prop_duenenblick/room-types", {
      name: "Studio",
      units: 1,
    })
  ).json();
  const attempt = async (externalId) => {
    const res = await api(DEMO.tokens.kuesteAdmin, "POST", "/api/v1/channel-mappings", {
      connection_id: "con_duenenblick_airbnb",
      mapping_type: "room_type",
      internal_id: studio.id,
      external_id: externalId,
    });
    return { status: res.status, body: await res.json() };
  };
  const t5 = performance.now();
  const stolen = await attempt(house.airbnbListing);
  check(
    "refused: Airbnb does not show that listing to Küstenliebe's own host account",
    stolen.status === 422 && stolen.body.error?.code === "external_id_unavailable",
    `HTTP ${stolen.status} in ${(performance.now() - t5).toFixed(0)} ms: ${stolen.body.error?.message ?? ""}`,
  );
  const unknown = await attempt("49999999");
  check(
    "an id Airbnb does not know gets the very same answer (nothing to learn about other tenants)",
    unknown.status === stolen.status &&
      JSON.stringify(unknown.body) === JSON.stringify(stolen.body),
  );
} catch (err) {
  check("scenario ran to the end", false, String(err?.stack ?? err));
} finally {
  stack.stop();
}

const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
// Keep the state and Worker logs of a failed run for a look; a clean run leaves nothing behind.
if (failed.length === 0) setTimeout(() => rmSync(persistTo, { recursive: true, force: true }), 500);
else console.log(`Worker logs and state kept in ${persistTo}`);
setTimeout(() => process.exit(failed.length === 0 ? 0 : 1), 700);
