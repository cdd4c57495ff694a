import type { ToolSpec } from '../../contracts';
import type { ToolRegistry } from './registry';

/** The named tools as a run pins them: name, description, JSON Schema of the input (unknown names left out). */
export function toolSpecsOf(registry: ToolRegistry, names: readonly string[]): ToolSpec[] {
  return registry.describe(names).map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputJsonSchema,
  }));
}
