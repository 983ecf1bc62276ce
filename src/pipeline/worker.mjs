// Worker bootstrap: worker threads start without the main thread's tsx hooks,
// so register them here before loading the TypeScript worker module.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker.ts', import.meta.url).href);
