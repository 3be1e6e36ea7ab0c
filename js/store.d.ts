// Types of `wasmqtt/store`: the whole client (as `wasmqtt`), over a wasm built with the
// session store, and the stores that keep a session across page reloads.
import type { SessionStore } from './index.js';

export * from './index.js';
export { default } from './index.js';

export interface StoreOptions {
  /**
   * How long (ms) a client waits for another tab with the same client id and store to let
   * go of the session (a Web Lock) before it fails with 'STORE_LOCKED' (default 5000).
   */
  lockTimeout?: number;
}

export interface IndexedDBStoreOptions extends StoreOptions {
  /** The IndexedDB database (default 'wasmqtt'); one holds any number of client ids. */
  name?: string;
  /**
   * Transaction durability: 'relaxed' (default) writes survive the page (reload, close,
   * crash), 'strict' also a power cut, at some cost in throughput.
   */
  durability?: 'relaxed' | 'strict';
}

/** The session kept in IndexedDB: survives reloads, closing and crashes of the page. */
export function indexedDBStore(options?: IndexedDBStoreOptions): SessionStore;

/**
 * The session kept in this page's memory (in `map`, by client id): survives one client
 * ending and another starting in the same page, not a reload.
 */
export function memoryStore(map?: Map<string, unknown>, options?: StoreOptions): SessionStore;
