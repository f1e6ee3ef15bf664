/**
 * Process-wide bookkeeping of live clients and transport handles, so tests (and `rxzk/testing`) can
 * prove that nothing was left open.
 */
let handles = 0;
let clients = 0;

export const registry = {
  handleOpened(): void {
    handles++;
  },
  handleClosed(): void {
    handles--;
  },
  clientOpened(): void {
    clients++;
  },
  clientClosed(): void {
    clients--;
  },
  /** Transport handles opened and not yet closed. */
  get openHandles(): number {
    return handles;
  },
  /** Clients created by `connect()` and not yet closed. */
  get openClients(): number {
    return clients;
  },
};
