/**
 * The search attributes an operator filters by in the Web UI (PRODUCT.md §8). They are registered
 * on the namespace at start; the README shows queries such as `HooklineEndpoint = "ep_…"`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const HooklineApp = defineSearchAttributeKey('HooklineApp', SearchAttributeType.KEYWORD);
export const HooklineEndpoint = defineSearchAttributeKey('HooklineEndpoint', SearchAttributeType.KEYWORD);
export const HooklineEventType = defineSearchAttributeKey('HooklineEventType', SearchAttributeType.KEYWORD);
export const HooklineEvent = defineSearchAttributeKey('HooklineEvent', SearchAttributeType.KEYWORD);
export const HooklineStatus = defineSearchAttributeKey('HooklineStatus', SearchAttributeType.KEYWORD);

export const hooklineSearchAttributes = [HooklineApp, HooklineEndpoint, HooklineEventType, HooklineEvent, HooklineStatus];

/** The attributes every delivery run starts with, whoever starts it (fan-out or a resend). */
export function deliverySearchAttributes(d: { appId: string; endpointId: string; eventId: string; eventType: string }) {
  return [
    { key: HooklineApp, value: d.appId },
    { key: HooklineEndpoint, value: d.endpointId },
    { key: HooklineEvent, value: d.eventId },
    { key: HooklineEventType, value: d.eventType },
    { key: HooklineStatus, value: 'pending' },
  ];
}
