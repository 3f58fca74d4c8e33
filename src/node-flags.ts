/**
 * V8 heap flags every Hookline process is started with: `npm start` (package.json), the Docker
 * image (Dockerfile) and the bench's worker process. `node-flags.test.ts` keeps the three equal.
 *
 * Why: a worker's live heap is small (about 47 MB on the main thread and 40 MB on the workflow
 * thread with 3,000 deliveries parked and a cache of 250), but with V8's defaults each thread's
 * heap grew to about 150 MB before a full collection, and the worker's RSS to 470 MB. A fixed
 * growth of 50% past the live size after each full collection, and 8 MB semi-spaces instead of
 * 16, brought it to 318 MB in the same setup; in one quick P1 run CPU per delivery stayed within
 * the spread of four runs without the flags. Both flags apply to every V8 isolate in the process,
 * the SDK's workflow thread included. `--optimize-for-size` saved more (249–256 MB) but cost CPU:
 * alone, the floor workflow's worker CPU went from 11.2 to 19.5–21.5 ms; with 16 MB semi-spaces,
 * P1's CPU per delivery was 10–15% higher in alternating quick runs.
 */
export const NODE_HEAP_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'] as const;
