/**
 * The Express app: JSON in and out, bearer-key auth on /v1 (the admin key, or an application key
 * for its own application), one router per resource, and one error shape. Bodies are size-limited
 * per route before they are parsed. The load shedder sits in front of Express, on the raw request
 * listener.
 */
import type { RequestListener } from 'node:http';
import express from 'express';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Store } from '../store';
import { authenticate, type KeyLimits, rateLimitPerKey, scopeToApplication } from './auth';
import type { UrlPolicy } from '../domain/url-rules';
import { keysRouter } from './routes/keys';
import type { Dispatcher } from './dispatcher';
import { renderDocs } from './docs';
import { createEventSchemas } from './event-schemas';
import { createIdempotency } from './idempotent';
import type { SchemaChecker } from './schema-checker';
import { limitInFlight } from './load-shed';
import { measureRequests } from './measure';
import { answerOptions, errorHandler, routeNotFound } from './errors';
import { ApiRegistry } from './openapi';
import type { Probes } from '../readiness';
import { keepRawBody } from './raw-json';
import { checkBodyText, refuseUnpairedSurrogates } from './text-check';
import { appsRouter } from './routes/apps';
import type { RouteContext } from './routes/context';
import { deliveriesRouter } from './routes/deliveries';
import { endpointsRouter } from './routes/endpoints';
import { eventsRouter } from './routes/events';
import { healthRouter } from './routes/health';
import { recoveriesRouter } from './routes/recoveries';
import { eventTypesRouter } from './routes/event-types';
import { testSendsRouter } from './routes/test-sends';

export interface ApiDeps {
  store: Store;
  dispatcher: Dispatcher;
  adminKey: string;
  urlPolicy: UrlPolicy;
  limits: { maxPayloadBytes: number; maxEndpointsPerApp: number };
  rateLimit: KeyLimits;
  /** Concurrent /v1 requests before the API sheds load with 503. */
  maxInFlight: number;
  /** While true (the event loop is behind), the API sheds every /v1 request with 503. */
  late?: () => boolean;
  /** What `/readyz` checks: the store and Temporal. */
  readiness: Probes;
  logger: Logger;
  metrics: Metrics;
  /**
   * Check event data, and vet event-type schemas, each on a thread of its own (a vet may take
   * seconds, and must not hold the checks of events); their owner closes them.
   */
  schemaCheckers: { events: SchemaChecker; vets: SchemaChecker };
}

/** Bodies other than events are small; events get room for `data` and `previous_data` at the cap. */
const SMALL_BODY_LIMIT = '64kb';

export function createApi(deps: ApiDeps): RequestListener {
  const api = new ApiRegistry(createIdempotency(deps.store.idempotentRequests, deps.logger));
  const eventSchemas = createEventSchemas({ store: deps.store, logger: deps.logger, checker: deps.schemaCheckers.events });
  const ctx: RouteContext = { store: deps.store, dispatcher: deps.dispatcher, metrics: deps.metrics, api, urlPolicy: deps.urlPolicy, limits: deps.limits, eventSchemas, schemaChecker: deps.schemaCheckers.vets };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use(measureRequests(deps.metrics, (method, path) => api.patternAt(method, path)));
  const methodsAt = (path: string) => api.methodsAt(path);
  app.use(answerOptions(methodsAt));
  app.use(healthRouter(ctx, deps.readiness));
  api.plainGet(app, '/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  const document = api.document.bind(api);
  api.plainGet(app, '/openapi.json', (_req, res) => {
    res.json(document());
  });
  api.plainGet(app, '/docs', (_req, res) => {
    res.type('html').send(renderDocs(document()));
  });

  const eventBodyLimit = 2 * deps.limits.maxPayloadBytes + 64 * 1024;
  app.use('/v1', authenticate(deps.adminKey, deps.store), rateLimitPerKey(deps.rateLimit));
  app.use('/v1/apps/:app', scopeToApplication);
  // Events come first, with a parser of their own: a larger limit, and the body's text kept, since
  // data is stored as the producer wrote it. Every other route reads a small body, in which no
  // text may hold an unpaired surrogate.
  app.post('/v1/apps/:app/events', express.json({ limit: eventBodyLimit, strict: false, verify: keepRawBody }));
  app.use(eventsRouter(ctx));
  app.use('/v1', express.json({ limit: SMALL_BODY_LIMIT, strict: false, verify: checkBodyText }), refuseUnpairedSurrogates);
  app.use(appsRouter(ctx), keysRouter(ctx), endpointsRouter(ctx), recoveriesRouter(ctx), testSendsRouter(ctx), eventTypesRouter(ctx), deliveriesRouter(ctx));

  app.use(routeNotFound(methodsAt));
  app.use(errorHandler(deps.logger));
  return limitInFlight(app, { maxInFlight: deps.maxInFlight, ...(deps.late && { late: deps.late }), onShed: (reason) => deps.metrics.apiShed.inc({ reason }) });
}
