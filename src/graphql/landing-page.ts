import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { DevIssuer } from '../dev-issuer/dev-issuer.js';

const EXAMPLE_OPERATION_BODY = `query MyOrders {
  me {
    displayName
    orders(first: 5) {
      edges { node { id status total { amount currency } items { quantity product { name } } } }
    }
  }
  products(first: 3) { edges { node { id name price { amount currency } inStock } } }
}

# Live: run this, then place an order (Sandbox sends subscriptions over WebSocket on /graphql).
subscription MyOrderEvents {
  orderEvents { status previousStatus order { id status total { amount currency } } }
}
`;
const EXAMPLE_OPERATION = `# Try it: the Authorization header below holds a development token with every scope.
${EXAMPLE_OPERATION_BODY}`;
const EXAMPLE_OPERATION_WITHOUT_TOKEN = `# Try it: get a token with \`npm run token -- --sub alice --scope "read:profile read:orders"\`
# and add the header Authorization: Bearer <token>. (The landing page embeds one only when the
# server listens on a loopback address, or with DEV_LANDING_TOKEN=true.)
${EXAMPLE_OPERATION_BODY}`;

/** Options of {@link landingPagePlugin}. */
export interface LandingPageOptions {
  /** The built-in development issuer, when no external issuer is configured. */
  readonly devIssuer: DevIssuer | undefined;
  /** Embed a development token with every scope (`DEV_LANDING_TOKEN`). Only with `devIssuer`. */
  readonly embedToken: boolean;
  /** Every scope of the API, for the embedded token. */
  readonly scopes: readonly string[];
}

/**
 * Apollo Sandbox at /graphql. With the development issuer: an example operation and, when asked
 * for (by default only on a loopback address), an `Authorization` header holding a token with
 * every scope, valid 12 hours, signed at start-up.
 */
export async function landingPagePlugin<TContext extends BaseContext>(options: LandingPageOptions): Promise<ApolloServerPlugin<TContext>> {
  const { devIssuer, embedToken } = options;
  if (devIssuer === undefined) return ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false });
  const sharedHeaders = embedToken
    ? { Authorization: `Bearer ${await devIssuer.sign({ sub: 'dev-user', name: 'Dev User', scope: options.scopes.join(' '), expiresInSec: 12 * 3600 })}` }
    : undefined;
  return ApolloServerPluginLandingPageLocalDefault({
    embed: { initialState: { pollForSchemaUpdates: false, ...(sharedHeaders ? { sharedHeaders } : {}) } },
    document: embedToken ? EXAMPLE_OPERATION : EXAMPLE_OPERATION_WITHOUT_TOKEN,
    includeCookies: false,
  });
}
