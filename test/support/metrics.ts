/** Reads a Prometheus text exposition the way a scraper would. */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

/** The value of one sample, `name{labels}`, with labels in the exposition's order; 0 when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const rendered = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  const head = rendered ? `${name}{${rendered}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? 0 : Number(line.slice(head.length));
}
