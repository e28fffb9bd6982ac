/**
 * Decimal strings ↔ integer minor units, by string arithmetic: "450.10" must become 45010, and
 * parseFloat("450.10") * 100 is 45009.999… The number of minor digits follows ISO 4217 through
 * Intl (JPY 0, EUR 2, KWD 3).
 */

const exponents = new Map<string, number>();

export function currencyExponent(currency: string): number {
  const code = currency.toUpperCase();
  let exp = exponents.get(code);
  if (exp === undefined) {
    exp =
      new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions()
        .maximumFractionDigits ?? 2;
    exponents.set(code, exp);
  }
  return exp;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * "450.00" EUR → 45000. Extra fractional digits are rounded half away from zero. Returns null for
 * anything that is not a plain decimal number.
 */
export function decimalToMinor(amount: string, currency: string): number | null {
  const m = DECIMAL.exec(amount.trim());
  if (!m) return null;
  const [, sign = "", whole = "", frac = ""] = m;
  const exp = currencyExponent(currency);
  const kept = frac.slice(0, exp).padEnd(exp, "0");
  const roundUp = (frac[exp] ?? "0") >= "5";
  const minor = Number(whole + kept) + (roundUp ? 1 : 0);
  if (!Number.isSafeInteger(minor)) return null;
  return sign === "-" && minor !== 0 ? -minor : minor;
}

/** 12000 EUR → "120.00"; 1500 JPY → "1500". */
export function minorToDecimal(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an integer amount: ${minor}`);
  const exp = currencyExponent(currency);
  const digits = Math.abs(minor)
    .toString()
    .padStart(exp + 1, "0");
  const whole = digits.slice(0, digits.length - exp);
  const frac = digits.slice(digits.length - exp);
  return `${minor < 0 ? "-" : ""}${whole}${exp > 0 ? `.${frac}` : ""}`;
}
