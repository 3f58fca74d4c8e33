import { describe, expect, it } from 'vitest';
import { endedRunsQuery } from './reconciler';

describe('endedRunsQuery', () => {
  const since = new Date('2026-11-24T03:00:00.000Z');
  it.each([
    [
      'one type',
      'hookline',
      ['delivery'],
      "TaskQueue = 'hookline' AND (WorkflowType = 'delivery') AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= '2026-11-24T03:00:00.000Z'",
    ],
    [
      'two types',
      'q',
      ['fanOut', 'delivery'],
      "TaskQueue = 'q' AND (WorkflowType = 'fanOut' OR WorkflowType = 'delivery') AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= '2026-11-24T03:00:00.000Z'",
    ],
    [
      'a task queue with quotes and backslashes stays one literal',
      "it's\\q",
      ['delivery'],
      "TaskQueue = 'it\\'s\\\\q' AND (WorkflowType = 'delivery') AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= '2026-11-24T03:00:00.000Z'",
    ],
  ])('%s', (_name, taskQueue, types, expected) => {
    expect(endedRunsQuery(taskQueue, types, since)).toBe(expected);
  });
});
