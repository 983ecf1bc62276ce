// Worker bootstrap: a worker thread starts without the main thread's module
// hooks, so it loads the same bundle as its process, or the sources through tsx.
import { startEntry } from '../../bin/launch.mjs';

await startEntry('worker');
