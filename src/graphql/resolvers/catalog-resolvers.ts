import { getProduct, listProducts } from '../../domain/catalog/catalog-service.js';
import { formatMinorUnits } from '../../domain/money.js';
import type { ProductResolvers, QueryResolvers } from '../generated/resolvers-types.js';
import { expectGlobalId, toGlobalId } from '../global-id.js';

export const catalogQueries: Pick<QueryResolvers, 'products' | 'product'> = {
  products: (_parent, args, { deps }) => listProducts(deps, args),
  product: (_parent, { id }, { deps }) => getProduct(deps, expectGlobalId(id, 'Product', 'id')),
};

export const Product: ProductResolvers = {
  id: (p) => toGlobalId('Product', p.id),
  price: (p) => formatMinorUnits(p.price_minor, p.currency),
  inStock: (p) => p.stock > 0,
};
