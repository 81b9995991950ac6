import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';

import { DatabaseUnavailableError } from '../errors.js';
import { isDatabaseUnavailable } from './database-errors.js';

/**
 * `dialect` with every driver failure that means "the database is unavailable"
 * ({@link isDatabaseUnavailable}) thrown as {@link DatabaseUnavailableError} (503, `Retry-After`)
 * instead of the driver's error, at the one place all statements pass: acquiring a connection,
 * running a statement, and beginning, committing or rolling back a transaction. Other errors (a
 * constraint violation, a lost race) pass unchanged, so the callers' handling of them stays.
 */
export function withUnavailableErrors(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => new UnavailableErrorsDriver(dialect.createDriver()),
  };
}

function translate(error: unknown): unknown {
  return isDatabaseUnavailable(error) ? new DatabaseUnavailableError({ cause: error }) : error;
}

async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translate(error);
  }
}

class GuardedConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return guarded(() => this.inner.executeQuery<R>(compiledQuery));
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (error) {
      throw translate(error);
    }
  }
}

function innerOf(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof GuardedConnection ? connection.inner : connection;
}

class UnavailableErrorsDriver implements Driver {
  // One wrapper per driver connection, so Kysely sees the same object for the same connection.
  readonly #wrappers = new WeakMap<DatabaseConnection, GuardedConnection>();

  constructor(readonly inner: Driver) {
    if (inner.savepoint) this.savepoint = (c, name, compile) => guarded(() => inner.savepoint!(c, name, compile));
    if (inner.rollbackToSavepoint) this.rollbackToSavepoint = (c, name, compile) => guarded(() => inner.rollbackToSavepoint!(c, name, compile));
    if (inner.releaseSavepoint) this.releaseSavepoint = (c, name, compile) => guarded(() => inner.releaseSavepoint!(c, name, compile));
  }

  savepoint?: (connection: DatabaseConnection, savepointName: string, compileQuery: QueryCompiler['compileQuery']) => Promise<void>;
  rollbackToSavepoint?: (connection: DatabaseConnection, savepointName: string, compileQuery: QueryCompiler['compileQuery']) => Promise<void>;
  releaseSavepoint?: (connection: DatabaseConnection, savepointName: string, compileQuery: QueryCompiler['compileQuery']) => Promise<void>;

  init(): Promise<void> {
    return guarded(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await guarded(() => this.inner.acquireConnection());
    let wrapper = this.#wrappers.get(connection);
    if (wrapper === undefined) {
      wrapper = new GuardedConnection(connection);
      this.#wrappers.set(connection, wrapper);
    }
    return wrapper;
  }

  // The transaction statements run through the wrapper: Kysely's logging (statement counting) is
  // attached to the connection object it was given, and the built-in drivers send them with
  // `connection.executeQuery`.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guarded(() => this.inner.beginTransaction(connection, settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return guarded(() => this.inner.commitTransaction(connection));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return guarded(() => this.inner.rollbackTransaction(connection));
  }

  // The driver's own connection: PostgreSQL's release method is private to it.
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
