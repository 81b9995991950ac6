/** An exact amount: `amount` is a decimal string in major units ("19.99"), never a float. */
export interface MoneyAmount {
  amount: string;
  currency: string;
}

// ISO 4217 minor-unit exponents that differ from the usual 2.
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0,
  UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** Number of decimal places of the currency's minor unit (2 unless ISO 4217 says otherwise). */
export function minorUnitExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/**
 * Formats an integer amount of minor units: `formatMinorUnits(1999, 'USD')` is
 * `{ amount: '19.99', currency: 'USD' }`, `5` is `'0.05'`, `-120` is `'-1.20'`; JPY has no
 * decimals. String arithmetic only, so no rounding ever happens. Throws RangeError for a
 * non-integer or unsafe amount or a currency that is not three capital letters.
 */
export function formatMinorUnits(minor: number, currency: string): MoneyAmount {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`Money amount must be a safe integer of minor units, got ${minor}`);
  if (!/^[A-Z]{3}$/.test(currency)) throw new RangeError(`Currency must be an ISO 4217 code, got "${currency}"`);
  const exponent = minorUnitExponent(currency);
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const sign = minor < 0 ? '-' : '';
  if (exponent === 0) return { amount: sign + digits, currency };
  const split = digits.length - exponent;
  return { amount: `${sign}${digits.slice(0, split)}.${digits.slice(split)}`, currency };
}
