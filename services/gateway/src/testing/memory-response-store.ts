import type { ResponseStore, StoredResponse } from '../responses/response-store.js';

/** TEST-ONLY ResponseStore in a Map (no TTL): for gateway tests that run without Redis. */
export class MemoryResponseStore implements ResponseStore {
  private readonly records = new Map<string, string>();

  async put(owner: string, id: string, record: StoredResponse): Promise<void> {
    this.records.set(`${owner}:${id}`, JSON.stringify(record));
  }

  async get(owner: string, id: string): Promise<StoredResponse | undefined> {
    const raw = this.records.get(`${owner}:${id}`);
    return raw === undefined ? undefined : (JSON.parse(raw) as StoredResponse);
  }

  async delete(owner: string, id: string): Promise<boolean> {
    return this.records.delete(`${owner}:${id}`);
  }

  async close(): Promise<void> {}
}
