import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ANONYMOUS } from '../../../src/auth/principal.js';
import { getCallerProfile, getMe, getProfile, updateProfile } from '../../../src/domain/profile/profile-service.js';
import { Scopes } from '../../../src/domain/granted-scopes.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';
import { countRows, rejection, requestDeps } from '../../fixtures/domain.js';

describe.each(databaseTargets())('profiles on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
  });
  afterAll(() => database.cleanup());

  const profileRows = (subject: string) =>
    database.db.selectFrom('profiles').selectAll().where('subject', '=', subject).execute();

  describe('creation on first use', () => {
    it('creates the profile with the name claim', async () => {
      const profile = await getCallerProfile(requestDeps(database.db), userPrincipal('ada', { name: 'Ada Lovelace' }));
      expect(profile).toMatchObject({ subject: 'ada', issuer: 'https://issuer.test', display_name: 'Ada Lovelace', email: null });
      expect(profile.created_at).toMatch(/Z$/);
    });

    it('uses preferred_username when that is the name the token carries', async () => {
      const profile = await getCallerProfile(requestDeps(database.db), userPrincipal('grace', { name: 'ghopper' }));
      expect(profile.display_name).toBe('ghopper');
    });

    it('falls back to a neutral name', async () => {
      const profile = await getCallerProfile(requestDeps(database.db), userPrincipal('nameless'));
      expect(profile.display_name).toBe('Customer');
    });

    it('finds the existing profile later and keeps its name', async () => {
      const first = await getCallerProfile(requestDeps(database.db), userPrincipal('returning', { name: 'First Name' }));
      const again = await getCallerProfile(requestDeps(database.db), userPrincipal('returning', { name: 'Changed Claim' }));
      expect(again).toEqual(first);
    });

    it('costs one statement per request once the profile exists', async () => {
      const principal = userPrincipal('memo', { name: 'Memo' });
      await getCallerProfile(requestDeps(database.db), principal);
      const deps = requestDeps(database.db);
      database.statements.reset();
      await Promise.all([getCallerProfile(deps, principal), getCallerProfile(deps, principal)]);
      await getMe(deps, principal);
      expect(database.statements.count).toBe(1);
    });

    it('keeps users of different issuers apart', async () => {
      const a = await getCallerProfile(requestDeps(database.db), userPrincipal('same-sub', { issuer: 'https://a.test' }));
      const b = await getCallerProfile(requestDeps(database.db), userPrincipal('same-sub', { issuer: 'https://b.test' }));
      expect(a.id).not.toBe(b.id);
    });

    it('creates exactly one profile when first requests race', async () => {
      const principal = userPrincipal('racer', { name: 'Racer' });
      const profiles = await Promise.all(
        Array.from({ length: 10 }, () => getCallerProfile(requestDeps(database.db), principal)),
      );
      expect(new Set(profiles.map((p) => p.id)).size).toBe(1);
      expect(await profileRows('racer')).toHaveLength(1);
    });

    it('gives clients and anonymous callers no profile', async () => {
      const deps = requestDeps(database.db);
      await expect(getMe(deps, clientPrincipal('batch-job'))).resolves.toBeNull();
      await expect(getMe(deps, ANONYMOUS)).resolves.toBeNull();
      expect(await profileRows('batch-job')).toHaveLength(0);
    });
  });

  describe('updateProfile', () => {
    it('changes the display name (trimmed) and email', async () => {
      const principal = userPrincipal('updater', { name: 'Old' });
      const updated = await updateProfile(requestDeps(database.db), principal, {
        displayName: '  New Name ',
        email: 'new@example.com',
      });
      expect(updated).toMatchObject({ display_name: 'New Name', email: 'new@example.com' });
      expect((await profileRows('updater'))[0]).toMatchObject({ display_name: 'New Name', email: 'new@example.com' });
    });

    it('leaves fields that are absent or a null displayName unchanged, and clears email with null', async () => {
      const principal = userPrincipal('partial', { name: 'Keep Me' });
      const deps = requestDeps(database.db);
      await updateProfile(deps, principal, { email: 'a@example.com' });
      const kept = await updateProfile(requestDeps(database.db), principal, { displayName: null });
      expect(kept).toMatchObject({ display_name: 'Keep Me', email: 'a@example.com' });
      const cleared = await updateProfile(requestDeps(database.db), principal, { email: null });
      expect(cleared).toMatchObject({ display_name: 'Keep Me', email: null });
    });

    it('serves the updated profile to the rest of the request', async () => {
      const principal = userPrincipal('fresh-cache', { name: 'Before' });
      const deps = requestDeps(database.db);
      await getCallerProfile(deps, principal);
      const updated = await updateProfile(deps, principal, { displayName: 'After' });
      await expect(getCallerProfile(deps, principal)).resolves.toEqual(updated);
      await expect(getProfile(deps, principal, updated.id)).resolves.toEqual(updated);
    });

    it.each([
      [{ displayName: '' }, 'input.displayName'],
      [{ displayName: '   ' }, 'input.displayName'],
      [{ displayName: 'x'.repeat(101) }, 'input.displayName'],
      [{ email: 'not-an-email' }, 'input.email'],
      [{ email: `${'a'.repeat(250)}@example.com` }, 'input.email'],
      [{ displayName: 'Valid Name', email: 'broken@' }, 'input.email'],
    ])('rejects %p naming %s and writes nothing', async (input, field) => {
      const principal = userPrincipal('validated', { name: 'Unchanged' });
      await updateProfile(requestDeps(database.db), principal, { email: 'kept@example.com' });
      const before = await profileRows('validated');
      expect(await rejection(updateProfile(requestDeps(database.db), principal, input))).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', field },
      });
      expect(await profileRows('validated')).toEqual(before);
    });

    it('does not even create the profile when the input is invalid', async () => {
      const before = await countRows(database.db, 'profiles');
      await rejection(updateProfile(requestDeps(database.db), userPrincipal('never-created'), { displayName: '' }));
      expect(await countRows(database.db, 'profiles')).toBe(before);
    });

    it('refuses a client principal', async () => {
      expect(
        await rejection(updateProfile(requestDeps(database.db), clientPrincipal('svc'), { displayName: 'Svc' })),
      ).toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'USER_REQUIRED' } });
    });
  });

  describe('reading a profile by id', () => {
    it('shows it to its owner and to admin:orders, hides it from everyone else', async () => {
      const owner = userPrincipal('profile-owner', { name: 'Owner' });
      const { id } = await getCallerProfile(requestDeps(database.db), owner);
      const read = (principal: Parameters<typeof getProfile>[1]) => getProfile(requestDeps(database.db), principal, id);

      await expect(read(owner)).resolves.toMatchObject({ id, display_name: 'Owner' });
      await expect(read(userPrincipal('someone-else'))).resolves.toBeNull();
      await expect(read(userPrincipal('profile-owner', { issuer: 'https://other-issuer.test' }))).resolves.toBeNull();
      await expect(read(userPrincipal('support', { scopes: [Scopes.adminOrders] }))).resolves.toMatchObject({ id });
      await expect(read(clientPrincipal('backoffice', { scopes: [Scopes.adminOrders] }))).resolves.toMatchObject({ id });
      await expect(read(clientPrincipal('profile-owner'))).resolves.toBeNull();
      await expect(read(ANONYMOUS)).resolves.toBeNull();
    });

    it('returns null for a missing profile, also to admins', async () => {
      const admin = userPrincipal('support', { scopes: [Scopes.adminOrders] });
      await expect(getProfile(requestDeps(database.db), admin, 999_999)).resolves.toBeNull();
    });
  });
});
