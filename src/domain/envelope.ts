/**
 * The body of a delivery (PRODUCT.md §3). It is built from the stored event only, by splicing
 * the stored JSON text, so every attempt of a delivery sends the same bytes (invariant 3).
 */
export const PayloadFormat = { envelope: 'envelope', raw: 'raw' } as const;
export type PayloadFormat = (typeof PayloadFormat)[keyof typeof PayloadFormat];

export interface StoredEventPayload {
  id: string;
  type: string;
  createdAt: Date;
  /** `data` as JSON text, exactly as stored. */
  payload: string;
  /** `previous_data` as JSON text, when the event has one. */
  previousPayload: string | null;
}

export function renderBody(event: StoredEventPayload, format: PayloadFormat): string {
  if (format === PayloadFormat.raw) return event.payload;
  const head = `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},"timestamp":${JSON.stringify(event.createdAt.toISOString())},"data":${event.payload}`;
  return event.previousPayload === null ? `${head}}` : `${head},"previous_data":${event.previousPayload}}`;
}
