const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const DIGITS = "0123456789";

/** Uniform random characters (rejection sampling, so no modulo bias). */
export function randomChars(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Airbnb confirmation code: "HM" + 8 upper-case letters/digits. */
export function airbnbConfirmationCode(): string {
  return `HM${randomChars(UPPER_ALNUM, 8)}`;
}

/** Booking.com reservation id: 10 digits, no leading zero. */
export function bookingReservationId(): string {
  return `${randomChars("123456789", 1)}${randomChars(DIGITS, 9)}`;
}

export function eventId(prefix: string): string {
  return `${prefix}${randomChars(ALNUM, 24)}`;
}
