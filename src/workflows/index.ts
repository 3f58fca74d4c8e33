/** Every workflow the worker registers; the worker bundles this file. */
export { delivery } from './delivery';
export { fanOut } from './fan-out';
export { endpointHealth } from './endpoint-health';
export { recover } from './recover';
