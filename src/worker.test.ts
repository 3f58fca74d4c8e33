import { describe, expect, it } from 'vitest';
import { taskSlotOptions } from './worker';

describe('taskSlotOptions', () => {
  it.each([
    // [slots, cached workflows, workflow tasks, local activities]
    [200, 250, 200, 200],
    [200, 50, 50, 200],
    [200, 0, 200, 200],
    [2, 250, 2, 2],
    [500, 1, 2, 500],
  ])('%d slots with a cache of %d: %d workflow tasks, %d local activities', (slots, cached, workflowTasks, localActivities) => {
    expect(taskSlotOptions(slots, cached)).toEqual({ maxConcurrentWorkflowTaskExecutions: workflowTasks, maxConcurrentLocalActivityExecutions: localActivities });
  });
});
