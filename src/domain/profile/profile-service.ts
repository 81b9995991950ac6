import type { Principal, UserPrincipal } from '../../auth/principal.js';
import { ForbiddenError } from '../../errors.js';
import { timestamp, type RequestDeps } from '../request-deps.js';
import { hasScope, Scopes } from '../granted-scopes.js';
import { parseUpdateProfileInput, type UpdateProfileInput } from './profile-input.js';
import { updateProfileById, type ProfileView } from './profile-repository.js';

export type { UpdateProfileInput } from './profile-input.js';

/**
 * The user's profile, created on first use with the token's name (or "Customer").
 * Memoised per request; race-safe when two requests create it at once.
 */
export async function getCallerProfile(deps: RequestDeps, principal: UserPrincipal): Promise<ProfileView> {
  return deps.loaders.callerProfile.load({ issuer: principal.issuer, subject: principal.subject, claimedName: principal.name });
}

/** `Query.me`: the caller's profile for a user principal; null for clients and anonymous callers. */
export async function getMe(deps: RequestDeps, principal: Principal): Promise<ProfileView | null> {
  return principal.kind === 'user' ? getCallerProfile(deps, principal) : null;
}

/**
 * Changes the caller's display name and/or email. The whole input is validated first
 * (BadUserInputError with field `input.displayName` / `input.email`; nothing is written,
 * not even a first-use profile). An empty input returns the profile unchanged. A client
 * or anonymous principal has no profile: ForbiddenError, reason `USER_REQUIRED`.
 */
export async function updateProfile(
  deps: RequestDeps,
  principal: Principal,
  input: UpdateProfileInput,
): Promise<ProfileView> {
  if (principal.kind !== 'user') {
    throw new ForbiddenError('USER_REQUIRED', 'Only a token issued for a user has a profile');
  }
  const patch = parseUpdateProfileInput(input);
  const profile = await getCallerProfile(deps, principal);
  if (patch.displayName === undefined && patch.email === undefined) return profile;
  const updated = await updateProfileById(deps.db, profile.id, patch, timestamp(deps));
  if (updated === undefined) throw new Error(`Profile ${profile.id} vanished during update`);
  deps.loaders.profileById.clear(updated.id).prime(updated.id, updated);
  const key = { issuer: principal.issuer, subject: principal.subject, claimedName: principal.name };
  deps.loaders.callerProfile.clear(key).prime(key, updated);
  return updated;
}

/**
 * A profile by id (`Order.customer`, `node(id:)`): visible to its owner and to principals
 * with `admin:orders`; anyone else gets null, exactly as for a missing profile.
 */
export async function getProfile(deps: RequestDeps, principal: Principal, profileId: number): Promise<ProfileView | null> {
  const profile = await deps.loaders.profileById.load(profileId);
  if (profile === null) return null;
  const owner =
    principal.kind === 'user' && profile.issuer === principal.issuer && profile.subject === principal.subject;
  return owner || hasScope(principal, Scopes.adminOrders) ? profile : null;
}

/** Whether the principal is the user whose profile has this id. Clients and anonymous callers own nothing. */
export async function ownsProfile(deps: RequestDeps, principal: Principal, profileId: number): Promise<boolean> {
  if (principal.kind !== 'user') return false;
  return (await getCallerProfile(deps, principal)).id === profileId;
}
