import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

import { MIN_CURSOR_SECRET_BYTES } from '../config.js';
import { BadUserInputError } from '../errors.js';
import { isRowId } from './row-id.js';

/**
 * Turns a row id into an opaque pagination cursor and back. Create one per process at start-up
 * (every request and replica that must accept another's cursors shares its secret).
 */
export interface CursorCodec {
  /** An opaque cursor for the row with this id: reveals nothing about the id. */
  encode(rowId: number): string;
  /**
   * The row id inside a cursor, or null when `cursor` is null/undefined. Throws
   * BadUserInputError naming `argument` (e.g. `after`) for anything that is not a cursor this
   * codec's secret issued, unaltered.
   */
  decode(argument: string, cursor: string | null | undefined): number | null;
}

// Layout (33 bytes, 44 base64url characters): version ‖ 96-bit random nonce ‖ AES-256-GCM
// ciphertext of the id as uint32 big-endian ‖ 128-bit tag. The version byte is authenticated
// as additional data, so a later format can be told apart (and not be forged into this one).
const VERSION = 0x01;
const NONCE_BYTES = 12;
const ID_BYTES = 4;
const TAG_BYTES = 16;
const CURSOR_BYTES = 1 + NONCE_BYTES + ID_BYTES + TAG_BYTES;
const CURSOR_LENGTH = Math.ceil((CURSOR_BYTES * 8) / 6);
const CURSOR_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${CURSOR_LENGTH}}$`);
const ALGORITHM = 'aes-256-gcm';
const KEY_INFO = 'orders-rs pagination cursor v1';

/**
 * A codec keyed by `secret` (at least {@link MIN_CURSOR_SECRET_BYTES} bytes; the AES-256 key is
 * derived from it with HKDF-SHA256), or by a random secret when none is given: its cursors are
 * then valid only in this process. Cursors are authenticated encryption (AES-256-GCM, random
 * nonce), so two cursors for one row differ and a changed cursor is refused.
 */
export function createCursorCodec(secret?: Uint8Array): CursorCodec {
  if (secret !== undefined && secret.length < MIN_CURSOR_SECRET_BYTES) {
    throw new RangeError(`A cursor secret needs at least ${MIN_CURSOR_SECRET_BYTES} bytes`);
  }
  const key = Buffer.from(hkdfSync('sha256', secret ?? randomBytes(MIN_CURSOR_SECRET_BYTES), Buffer.alloc(0), KEY_INFO, 32));
  const header = Buffer.from([VERSION]);

  return Object.freeze({
    encode(rowId: number): string {
      if (!isRowId(rowId)) throw new RangeError(`Not a row id: ${rowId}`);
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(header);
      const plain = Buffer.alloc(ID_BYTES);
      plain.writeUInt32BE(rowId);
      const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([header, nonce, sealed, cipher.getAuthTag()]).toString('base64url');
    },

    decode(argument: string, cursor: string | null | undefined): number | null {
      if (cursor === null || cursor === undefined) return null;
      const invalid = () => new BadUserInputError(argument, `"${argument}" is not a valid cursor`);
      // Length and alphabet first: nothing larger than a cursor is decoded or decrypted.
      if (!CURSOR_PATTERN.test(cursor)) throw invalid();
      const bytes = Buffer.from(cursor, 'base64url');
      if (bytes.length !== CURSOR_BYTES || bytes[0] !== VERSION) throw invalid();
      const nonce = bytes.subarray(1, 1 + NONCE_BYTES);
      const sealed = bytes.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + ID_BYTES);
      const tag = bytes.subarray(CURSOR_BYTES - TAG_BYTES);
      let plain: Buffer;
      try {
        const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(header);
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(sealed), decipher.final()]);
      } catch {
        // Tag mismatch: altered, or issued under another secret.
        throw invalid();
      }
      const id = plain.readUInt32BE();
      if (!isRowId(id)) throw invalid();
      return id;
    },
  });
}
