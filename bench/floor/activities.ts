// The floor's activities: a scripted model (a tool call, then a final answer) and a no-op tool.
import { Context } from '@temporalio/activity';
import { now } from '../lib/stats';

export interface FloorModelReply {
  toolCallId: string;
  toolName: string;
  content: string;
}

export function createFloorActivities(onToolStarted: (runId: string, at: number) => void) {
  return {
    async floorModel(turn: number, toolOutput?: string): Promise<FloorModelReply> {
      return turn === 0
        ? { toolCallId: 'call_1', toolName: 'noop', content: '' }
        : { toolCallId: '', toolName: '', content: `Done: noop said ${toolOutput ?? ''}.` };
    },
    async floorTool(name: string): Promise<string> {
      onToolStarted(Context.current().info.workflowExecution?.workflowId ?? '', now());
      return name === 'noop' ? 'ok' : 'unknown tool';
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
