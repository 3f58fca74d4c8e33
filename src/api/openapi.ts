/**
 * Routes are declared once: the same zod schemas validate the request and describe it in
 * `/openapi.json`. `defineRoute` registers the path and returns an Express handler that parses
 * params, query and body before the handler sees them.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import { requireAdmin } from './auth';
import { ApiError, ErrorBody, zodDetails } from './errors';
import { z } from './zod';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType, H extends AnyObject = z.ZodObject<Record<string, never>>> {
  method: Method;
  /** Express form, e.g. `/v1/apps/:app`. */
  path: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  status?: number;
  response?: R;
  /** false: no key needed; 'admin': the admin key only. */
  auth?: boolean | 'admin';
}

export interface Input<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, H extends AnyObject = z.ZodObject<Record<string, never>>> {
  params: z.output<P>;
  /** The declared headers only, parsed; other request headers are dropped. */
  headers: z.output<H>;
  query: z.output<Q>;
  body: z.output<B>;
  req: Request;
  res: Response;
}

export class ApiRegistry {
  readonly registry = new OpenAPIRegistry();

  constructor() {
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  }

  /** Adds a route to `router` and to the document; the handler returns the response body. */
  route<P extends AnyObject = z.ZodObject<Record<string, never>>, Q extends AnyObject = z.ZodObject<Record<string, never>>, B extends z.ZodType = z.ZodUndefined, R extends z.ZodType = z.ZodUnknown, H extends AnyObject = z.ZodObject<Record<string, never>>>(
    router: Router,
    spec: RouteSpec<P, Q, B, R, H>,
    handler: (input: Input<P, Q, B, H>) => Promise<z.input<R> | undefined>,
  ): void {
    const status = spec.status ?? 200;
    this.registry.registerPath(toOpenApi(spec, status));
    const parse = <T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> => {
      if (!schema) return undefined as z.output<T>;
      const result = schema.safeParse(value);
      if (!result.success) throw ApiError.validation(`The request ${where} is not valid`, zodDetails(result.error));
      return result.data;
    };
    const handle: RequestHandler = async (req, res) => {
      if (spec.auth === 'admin') requireAdmin(res);
      const input: Input<P, Q, B, H> = {
        params: parse(spec.params, req.params, 'path'),
        headers: parse(spec.headers, req.headers, 'headers') ?? ({} as z.output<H>),
        query: parse(spec.query, req.query, 'query'),
        body: spec.body ? parse(spec.body, req.body ?? undefined, 'body') : (undefined as z.output<B>),
        req,
        res,
      };
      const body = await handler(input);
      if (res.headersSent) return;
      if (body === undefined) res.status(status).end();
      else res.status(status).json(body);
    };
    router[spec.method](spec.path, handle);
  }

  document(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { title: 'Hookline API', version: '1', description: 'Self-hosted webhook delivery on Temporal.' },
      servers: [{ url: '/' }],
    });
  }
}

function toOpenApi<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType, H extends AnyObject>(spec: RouteSpec<P, Q, B, R, H>, status: number): RouteConfig {
  const errors = Object.fromEntries(
    [400, 401, 404].map((code) => [code, { description: 'Error', content: { 'application/json': { schema: ErrorBody } } }]),
  );
  return {
    method: spec.method,
    path: spec.path.replace(/:([A-Za-z_]+)/g, '{$1}'),
    summary: spec.summary,
    ...(spec.auth === 'admin' && { description: 'Needs the admin key.' }),
    tags: [spec.tag],
    ...(spec.auth !== false && { security: [{ bearer: [] }] }),
    request: {
      ...(spec.params && { params: spec.params }),
      ...(spec.query && { query: spec.query }),
      ...(spec.headers && { headers: spec.headers }),
      ...(spec.body && { body: { content: { 'application/json': { schema: spec.body } } } }),
    },
    responses: {
      [status]: spec.response
        ? { description: 'OK', content: { 'application/json': { schema: spec.response } } }
        : { description: 'No content' },
      ...errors,
    },
  };
}
