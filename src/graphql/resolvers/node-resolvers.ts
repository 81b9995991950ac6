import { getProduct } from '../../domain/catalog/catalog-service.js';
import { getOrder } from '../../domain/orders/order-service.js';
import { getProfile } from '../../domain/profile/profile-service.js';
import { BadUserInputError } from '../../errors.js';
import type { NodeResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import { fromGlobalId } from '../global-id.js';

export const nodeQueries: Pick<QueryResolvers, 'node'> = {
  /**
   * Exactly the rules of the typed fields: the target type's scopes (checked here, since the
   * type is known only from the ID) and the domain's ownership rules (null when not visible).
   */
  node: async (_parent, { id }, { deps, principal, guard }) => {
    const target = fromGlobalId(id);
    if (!target) throw new BadUserInputError('id', 'id is not a valid global ID');
    const denied = guard.checkType(target.type);
    if (denied) throw denied;
    switch (target.type) {
      case 'Product':
        return getProduct(deps, target.id);
      case 'Order':
        return getOrder(deps, principal, target.id);
      case 'Profile':
        return getProfile(deps, principal, target.id);
    }
  },
};

export const Node: NodeResolvers = {
  // Rows are plain; each table's rows have a column no other has.
  __resolveType: (row) => ('price_minor' in row ? 'Product' : 'customer_id' in row ? 'Order' : 'Profile'),
};
