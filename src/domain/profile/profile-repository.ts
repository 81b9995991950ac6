import type { Kysely } from 'kysely';

import type { DatabaseSchema, ProfileRow, ProfileTable } from '../../db/database-schema.js';
import { preparedQuery } from '../../db/prepared-query.js';

type Db = Kysely<DatabaseSchema>;

/** The identity a profile belongs to: the token's `iss` and `sub`. */
export interface ProfileIdentity {
  readonly issuer: string;
  readonly subject: string;
}

/** Changes to a profile; undefined fields are left as they are. */
export interface ProfilePatch {
  displayName?: string;
  email?: string | null;
}

/** The columns a profile is read with: what resolvers and the ownership checks use (not `updated_at`). */
const PROFILE_COLUMNS = ['id', 'issuer', 'subject', 'display_name', 'email', 'created_at'] as const satisfies readonly (keyof ProfileTable)[];
/** A profile as the read paths carry it (see PROFILE_COLUMNS); full rows (ProfileRow) are assignable to it. */
export type ProfileView = Pick<ProfileRow, (typeof PROFILE_COLUMNS)[number]>;

const profilesByIds = preparedQuery((db, $) => db.selectFrom('profiles').select(PROFILE_COLUMNS).where('id', 'in', $.list<number>(0)));
const profileByIdentity = preparedQuery((db, $) =>
  db.selectFrom('profiles').select(PROFILE_COLUMNS).where('issuer', '=', $.value<string>(0)).where('subject', '=', $.value<string>(1)),
);

/** Profiles with these ids, in no particular order. */
export async function findProfilesByIds(db: Db, ids: readonly number[]): Promise<ProfileView[]> {
  if (ids.length === 0) return [];
  return profilesByIds.execute(db, [ids]);
}

export async function findProfileByIdentity(db: Db, identity: ProfileIdentity): Promise<ProfileView | undefined> {
  const [row] = await profileByIdentity.execute(db, [identity.issuer, identity.subject]);
  return row;
}

/**
 * The profile of `identity`, inserting it with the values `initial` gives when there is none
 * (asked only then). Race-safe: the insert does nothing when a concurrent request created the row
 * first, and the row is then read back. One statement when the profile exists, two or three on first use.
 */
export async function findOrCreateProfile(
  db: Db,
  identity: ProfileIdentity,
  initial: () => { readonly displayName: string; readonly createdAt: string },
): Promise<ProfileView> {
  const existing = await findProfileByIdentity(db, identity);
  if (existing !== undefined) return existing;
  const { displayName, createdAt } = initial();
  const inserted = await db
    .insertInto('profiles')
    .values({
      issuer: identity.issuer,
      subject: identity.subject,
      display_name: displayName,
      email: null,
      created_at: createdAt,
      updated_at: createdAt,
    })
    .onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing())
    .returning(PROFILE_COLUMNS)
    .executeTakeFirst();
  if (inserted !== undefined) return inserted;
  const winner = await findProfileByIdentity(db, identity);
  if (winner === undefined) throw new Error('Profile vanished between insert and select');
  return winner;
}

/** Applies the patch and returns the updated row (undefined when the id is unknown). */
export async function updateProfileById(
  db: Db,
  id: number,
  patch: ProfilePatch,
  updatedAt: string,
): Promise<ProfileRow | undefined> {
  return db
    .updateTable('profiles')
    .set({
      ...(patch.displayName !== undefined ? { display_name: patch.displayName } : {}),
      ...(patch.email !== undefined ? { email: patch.email } : {}),
      updated_at: updatedAt,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}
