import { describe, expect, it } from 'vitest';
import { isEventTypeName, isEventTypePattern, isReservedEventType, matchesChannels, matchesEventType, subscriptionKeys } from './event-types';

describe('event-type matching', () => {
  it.each([
    [['*'], 'invoice.paid', true],
    [['invoice.paid'], 'invoice.paid', true],
    [['invoice.paid'], 'invoice.paid.late', false],
    [['invoice.*'], 'invoice.paid', true],
    [['invoice.*'], 'invoice.line.added', true],
    [['invoice.*'], 'invoice', false],
    [['invoice.*'], 'invoices.paid', false],
    [['invoice.line.*'], 'invoice.line.added', true],
    [['invoice.line.*'], 'invoice.paid', false],
    [['order.created', 'invoice.*'], 'invoice.paid', true],
    [['order.created'], 'Order.created', false],
    [[], 'invoice.paid', false],
  ])('%j matches %s: %s', (patterns, type, expected) => {
    expect(matchesEventType(patterns, type)).toBe(expected);
  });

  it('lists every pattern that matches a type', () => {
    expect(subscriptionKeys('a.b.c')).toEqual(['*', 'a.b.c', 'a.*', 'a.b.*']);
    expect(subscriptionKeys('single')).toEqual(['*', 'single']);
  });

  it.each([
    ['invoice.paid', true],
    ['a', true],
    ['snake_case.v2', true],
    ['', false],
    ['invoice.', false],
    ['.invoice', false],
    ['invoice..paid', false],
    ['invoice paid', false],
    ['invoice.*', false],
    ['x'.repeat(257), false],
  ])('event type name %j valid: %s', (name, ok) => {
    expect(isEventTypeName(name)).toBe(ok);
  });

  it.each([
    ['*', true],
    ['invoice.*', true],
    ['invoice.paid', true],
    ['*.paid', false],
    ['invoice.*.paid', false],
    ['invoice*', false],
    ['', false],
  ])('pattern %j valid: %s', (pattern, ok) => {
    expect(isEventTypePattern(pattern)).toBe(ok);
  });

  it.each([
    ['hookline.test', true],
    ['Hookline.test', true],
    ['HOOKLINE.a.b', true],
    ['hookline', false],
    ['hooklines.test', false],
    ['my.hookline.test', false],
    ['invoice.paid', false],
  ])('%j is reserved: %s', (name, reserved) => {
    expect(isReservedEventType(name)).toBe(reserved);
  });
});

describe('channel matching', () => {
  it.each([
    [null, null, true],
    [[], ['eu'], true],
    [null, ['eu'], true],
    [['eu'], null, false],
    [['eu'], ['us'], false],
    [['eu', 'us'], ['us'], true],
  ])('endpoint %j, event %j: %s', (endpoint, event, expected) => {
    expect(matchesChannels(endpoint, event)).toBe(expected);
  });
});
