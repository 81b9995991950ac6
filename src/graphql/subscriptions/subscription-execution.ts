import { type ExecutionArgs, type ExecutionResult, GraphQLError, createSourceEventStream, execute } from 'graphql';

/** Options of {@link subscribeWithFreshContexts}. */
export interface FreshContextOptions {
  /** The context one event is executed with: new loaders and decisions, never those of an earlier event. */
  readonly eventContext: () => unknown;
  /** Checked before each event is executed; false ends the stream without executing it (an expired token). */
  readonly mayDeliver: () => boolean;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> & { return?: () => Promise<unknown> } {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * graphql-js `subscribe`, except that every event is executed with a fresh context (graphql-js
 * reuses the subscribe call's context, and with it its DataLoaders' rows, for every event). The
 * source stream is opened with `args.contextValue`; each event then goes through the schema's
 * resolvers and field guards like a query. Execution is graphql-js's, whatever GRAPHQL_EXECUTOR says.
 */
export async function subscribeWithFreshContexts(args: ExecutionArgs, options: FreshContextOptions): Promise<AsyncGenerator<ExecutionResult, void, undefined> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source as ExecutionResult;
  async function* events(): AsyncGenerator<ExecutionResult, void, undefined> {
    try {
      for await (const payload of source as AsyncIterable<unknown>) {
        if (!options.mayDeliver()) return;
        yield await execute({ ...args, rootValue: payload, contextValue: options.eventContext() });
      }
    } catch (error) {
      // A stream that ends with a coded error (its events were interrupted) ends the subscription
      // with that error as its last result, then completes; anything else is a fault.
      if (error instanceof GraphQLError) {
        yield { errors: [error] };
        return;
      }
      throw error;
    } finally {
      await (source as { return?: () => Promise<unknown> }).return?.();
    }
  }
  return events();
}
