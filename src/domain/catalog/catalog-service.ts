import { readPageArgs, toConnection, type Connection, type PageArgs } from '../pagination.js';
import type { RequestDeps } from '../request-deps.js';
import { findProductsAfter, type ProductView } from './product-repository.js';

/**
 * A page of the public catalog by id ascending. `first` defaults to 20 and is capped at
 * 100; a bad `first` or `after` throws BadUserInputError. One statement; the rows are
 * primed into `productById`.
 */
export async function listProducts(deps: RequestDeps, args: PageArgs): Promise<Connection<ProductView>> {
  const page = readPageArgs(deps.cursors, args);
  const rows = await findProductsAfter(deps.db, page.afterId, page.limit + 1);
  for (const row of rows) deps.loaders.productById.prime(row.id, row);
  return toConnection(deps.cursors, rows, page.limit);
}

/** One product, or null when there is none with that id. Batched through `productById`. */
export async function getProduct(deps: RequestDeps, productId: number): Promise<ProductView | null> {
  return deps.loaders.productById.load(productId);
}
