import { BadUserInputError } from '../errors.js';

/*
 * Characters no text this API stores may contain: controls (Cc); format characters (Cf: bidi
 * overrides and isolates such as U+202E, zero-width spaces and joiners, the BOM, soft hyphens),
 * which are invisible or reorder what a reader sees (UTS #39, "Trojan Source"); line and
 * paragraph separators (Zl, Zp); and surrogate code points (Cs), which in a JavaScript string are
 * halves of a UTF-16 pair standing alone: ill-formed text that no UTF-8 database can store (it
 * reads back as U+FFFD). With the `u` flag a well-formed pair is one astral code point, so only
 * lone halves match \p{Cs}.
 */
const REFUSED = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const INVISIBLE = /[\p{Cf}\p{Cs}]/gu;
const BREAKING = /[\p{Cc}\p{Zl}\p{Zp}]/gu;

export interface TextInputOptions {
  /** Remove leading and trailing white space first. Default: false. */
  readonly trim?: boolean;
}

/**
 * The one check every client-supplied text goes through before it is measured or stored:
 * refuses (BadUserInputError naming `field`) control, format, line and paragraph separator
 * characters and ill-formed UTF-16, and returns the text in Unicode Normalization Form C, so
 * that the same visible text is stored, compared and length-checked as the same string.
 * `label` starts the message ("Display name must not contain …").
 */
export function readTextInput(value: string, field: string, label: string, options: TextInputOptions = {}): string {
  const text = options.trim === true ? value.trim() : value;
  if (REFUSED.test(text)) {
    throw new BadUserInputError(
      field,
      `${label} must not contain control, invisible formatting or line separator characters, or unpaired surrogates`,
    );
  }
  return text.normalize('NFC');
}

/**
 * The same rules for text that cannot be refused (a token's claims): invisible characters and
 * unpaired surrogates are removed, controls and separators become spaces, the result is NFC.
 */
export function cleanText(value: string): string {
  return value.replace(INVISIBLE, '').replace(BREAKING, ' ').normalize('NFC');
}
