import { describe, expect, it } from 'vitest';
import { renderBody } from './envelope';

const event = {
  id: 'evt_1',
  type: 'invoice.paid',
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
  payload: '{"z":1,"a":"é"}',
  previousPayload: null,
};

describe('renderBody', () => {
  it('wraps data in the default envelope, keeping the stored JSON text as is', () => {
    expect(renderBody(event, 'envelope')).toBe('{"id":"evt_1","type":"invoice.paid","timestamp":"2026-01-02T03:04:05.678Z","data":{"z":1,"a":"é"}}');
  });

  it('adds previous_data when the event has it', () => {
    const body = renderBody({ ...event, previousPayload: '{"z":0}' }, 'envelope');
    expect(JSON.parse(body)).toMatchObject({ data: { z: 1 }, previous_data: { z: 0 } });
  });

  it('sends data exactly as given in raw format', () => {
    expect(renderBody(event, 'raw')).toBe('{"z":1,"a":"é"}');
  });

  it('is the same bytes every time', () => {
    expect(renderBody(event, 'envelope')).toBe(renderBody({ ...event }, 'envelope'));
  });
});
