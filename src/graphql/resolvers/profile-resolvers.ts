import { listOrdersForProfile } from '../../domain/orders/order-service.js';
import { getMe, updateProfile } from '../../domain/profile/profile-service.js';
import type { MutationResolvers, ProfileResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import { toGlobalId } from '../global-id.js';

export const profileQueries: Pick<QueryResolvers, 'me'> = {
  me: (_parent, _args, { deps, principal }) => getMe(deps, principal),
};

export const profileMutations: Pick<MutationResolvers, 'updateProfile'> = {
  updateProfile: (_parent, { input }, { deps, principal }) => updateProfile(deps, principal, input),
};

export const Profile: ProfileResolvers = {
  id: (p) => toGlobalId('Profile', p.id),
  displayName: (p) => p.display_name,
  createdAt: (p) => p.created_at,
  orders: (p, args, { deps, principal }) => listOrdersForProfile(deps, principal, p.id, args),
};
