/**
 * `/docs`: a readable reference rendered from the same OpenAPI document, with no client-side code:
 * one section per tag, each route with its summary, parameters and request body fields.
 */
import type { ApiRegistry } from './openapi';

type Doc = ReturnType<ApiRegistry['document']>;
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; description?: string }[];
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function bodyFields(doc: Doc, op: Operation): string {
  const ref = op.requestBody?.content?.['application/json']?.schema?.$ref;
  const name = ref?.split('/').pop();
  const schema = name ? (doc.components?.schemas?.[name] as { properties?: Record<string, { description?: string }>; required?: string[] } | undefined) : undefined;
  if (!schema?.properties) return '';
  const rows = Object.entries(schema.properties).map(
    ([field, p]) => `<li><code>${escape(field)}</code>${schema.required?.includes(field) ? ' (required)' : ''}${p.description ? ` — ${escape(p.description)}` : ''}</li>`,
  );
  return `<p>Body <code>${escape(name!)}</code>:</p><ul>${rows.join('')}</ul>`;
}

export function renderDocs(doc: Doc): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, raw] of Object.entries(methods as Record<string, Operation>)) {
      const op = raw;
      const params = (op.parameters ?? []).map((p) => `<code>${escape(p.name)}</code> (${p.in})`).join(', ');
      const html = `<h3><code>${method.toUpperCase()} ${escape(path)}</code></h3><p>${escape(op.summary ?? '')}${op.description ? ` ${escape(op.description)}` : ''}</p>${params ? `<p>Parameters: ${params}</p>` : ''}${bodyFields(doc, op)}`;
      const tag = op.tags?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<section><h2>${escape(tag)}</h2>${ops.join('\n')}</section>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Hookline API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}h3{margin-bottom:.2em}</style>
</head><body><h1>Hookline API</h1><p>Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>. Errors are <code>{"error":{"type","code","message","details?"}}</code>. The machine-readable form is <a href="/openapi.json">/openapi.json</a>.</p>
${sections}</body></html>`;
}
