import { BadUserInputError } from '../../errors.js';
import { cleanText, readTextInput } from '../text-input.js';
import type { ProfilePatch } from './profile-repository.js';

/** Maximum display name length, in characters (code points) after trimming and NFC normalisation. */
export const MAX_DISPLAY_NAME_LENGTH = 100;
/** Maximum email length (RFC 5321 §4.5.3.1.3 path limit minus the angle brackets). */
export const MAX_EMAIL_LENGTH = 254;
/** Display name of a profile whose token carries neither `name` nor `preferred_username`. */
export const DEFAULT_DISPLAY_NAME = 'Customer';

/** Input of updateProfile; undefined or null displayName leaves it unchanged, null email clears it. */
export interface UpdateProfileInput {
  displayName?: string | null;
  email?: string | null;
}

// RFC 5322 dot-atom local part (§3.2.3) at a host name of LDH labels (RFC 1035 §2.3.1)
// with an alphabetic or punycode top-level label; quoted local parts and address
// literals are deliberately not accepted.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const EMAIL = new RegExp(
  `^${ATEXT}+(?:\\.${ATEXT}+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$`,
);
const MAX_LOCAL_PART_LENGTH = 64;

/** Validates the whole input before anything is written; throws BadUserInputError naming the field. */
export function parseUpdateProfileInput(input: UpdateProfileInput): ProfilePatch {
  const patch: ProfilePatch = {};
  if (input.displayName !== undefined && input.displayName !== null) {
    patch.displayName = parseDisplayName(input.displayName);
  }
  if (input.email === null) patch.email = null;
  else if (input.email !== undefined) patch.email = parseEmail(input.email);
  return patch;
}

function parseDisplayName(value: string): string {
  const name = readTextInput(value, 'input.displayName', 'Display name', { trim: true });
  const length = [...name].length;
  if (length < 1 || length > MAX_DISPLAY_NAME_LENGTH) {
    throw new BadUserInputError(
      'input.displayName',
      `Display name must be 1 to ${MAX_DISPLAY_NAME_LENGTH} characters long`,
    );
  }
  return name;
}

function parseEmail(value: string): string {
  const email = readTextInput(value, 'input.email', 'Email', { trim: true });
  const at = email.lastIndexOf('@');
  if (email.length > MAX_EMAIL_LENGTH || at > MAX_LOCAL_PART_LENGTH || !EMAIL.test(email)) {
    throw new BadUserInputError('input.email', 'Email must be a valid address such as name@example.com');
  }
  return email;
}

/**
 * The display name for a new profile: the token's name (already `name`, falling back to
 * `preferred_username`), cleaned by the text rules (cleanText), cut to the maximum length, or
 * DEFAULT_DISPLAY_NAME.
 */
export function initialDisplayName(claimedName: string | undefined): string {
  const cleaned = cleanText(claimedName ?? '').trim();
  const name = [...cleaned].slice(0, MAX_DISPLAY_NAME_LENGTH).join('').trim();
  return name === '' ? DEFAULT_DISPLAY_NAME : name;
}
