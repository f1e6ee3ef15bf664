/**
 * A process that works on the embedded engine (streams, a container parent, a lock) and closes its
 * clients, then returns without process.exit(): it must end by itself, with no engine timer left.
 */
import { firstValueFrom, filter } from 'rxjs';
import { acquire, connect, data$ } from '../../src/index.js';

const [a, b] = [connect('memory://exit'), connect('memory://exit')];
await a.create('/app/config', 'v1', { createParents: 'container' });
const seen = firstValueFrom(data$(b, '/app/config').pipe(filter((s) => s?.data.toString() === 'v2')));
await a.set('/app/config', 'v2');
await seen;
const held = await acquire(a, '/app/locks/job');
await held.release();
await Promise.all([a.close(), b.close()]);
console.log('closed');
