import cluster from 'node:cluster';

/** The IPC message type that carries one committed change between `npm run start:cluster`'s processes. */
const CHANGE_MESSAGE = 'orders-rs:change';

interface ChangeMessage {
  readonly type: typeof CHANGE_MESSAGE;
  readonly change: unknown;
}

function isChangeMessage(message: unknown): message is ChangeMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === CHANGE_MESSAGE;
}

/** Sends and receives committed changes between processes (the shape of the database layer's `ChangeRelay`). */
export interface ProcessRelay {
  send(change: unknown): void;
  receive(listener: (change: unknown) => void): void;
}

/**
 * In a cluster worker: changes go to the primary over IPC, which relays them to every other
 * worker ({@link relayChangesBetweenWorkers}). Undefined outside a cluster worker.
 */
export function workerChangeRelay(): ProcessRelay | undefined {
  if (!cluster.isWorker || typeof process.send !== 'function') return undefined;
  return {
    send(change) {
      process.send?.({ type: CHANGE_MESSAGE, change } satisfies ChangeMessage);
    },
    receive(listener) {
      process.on('message', (message: unknown) => {
        if (isChangeMessage(message)) listener(message.change);
      });
    },
  };
}

/** In the cluster primary: every change a worker sends goes to every other worker, once. */
export function relayChangesBetweenWorkers(): void {
  cluster.on('message', (from, message: unknown) => {
    if (!isChangeMessage(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker !== undefined && worker.id !== from.id && worker.isConnected()) worker.send(message);
    }
  });
}
