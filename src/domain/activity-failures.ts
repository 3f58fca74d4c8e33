/**
 * The `type`s of the failures activities throw that workflows tell apart. This module imports
 * nothing, because workflow code (bundled without Node's modules) uses it.
 */
export const ActivityFailureType = {
  /**
   * `sendWebhook` sent and recorded its attempt and only a follow-up failed (waking the health
   * workflow, an operational event). The delivery workflow's next try of that attempt then
   * concludes from the record instead of sending again.
   */
  followUpFailed: 'FollowUpFailed',
} as const;
export type ActivityFailureType = (typeof ActivityFailureType)[keyof typeof ActivityFailureType];
