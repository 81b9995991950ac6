import { BadUserInputError } from '../errors.js';

/** Types that have global IDs (`Node` implementations). */
export type NodeTypeName = 'Product' | 'Order' | 'Profile';

const NODE_TYPES: ReadonlySet<string> = new Set<NodeTypeName>(['Product', 'Order', 'Profile']);

/** Opaque global ID: base64url of `Type:id`. Clients must not parse it. */
export function toGlobalId(type: NodeTypeName, id: number): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
}

/** Decodes a global ID; undefined when it is not one of ours. */
export function fromGlobalId(value: string): { type: NodeTypeName; id: number } | undefined {
  if (value.length === 0 || value.length > 64 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  const match = /^([A-Za-z]+):([1-9][0-9]{0,14})$/.exec(decoded);
  if (!match || !NODE_TYPES.has(match[1]!)) return undefined;
  const id = Number(match[2]);
  return Number.isSafeInteger(id) ? { type: match[1] as NodeTypeName, id } : undefined;
}

/**
 * Decodes a global ID that must name an object of `type`; otherwise a BAD_USER_INPUT error
 * naming the argument. Says nothing about whether such an object exists.
 */
export function expectGlobalId(value: string, type: NodeTypeName, field: string): number {
  const decoded = fromGlobalId(value);
  if (!decoded || decoded.type !== type) throw new BadUserInputError(field, `${field} is not a valid ${type} ID`);
  return decoded.id;
}
