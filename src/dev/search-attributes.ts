import type { Connection } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes';
import { HITL_SEARCH_ATTRIBUTES } from '../contracts';

type AnyKey = SearchAttributeKey<SearchAttributeType>;

export class SearchAttributeTypeMismatchError extends Error {
  override readonly name = 'SearchAttributeTypeMismatchError';
}

/** `--search-attribute Name=Type` arguments of `temporal server start-dev`. */
export function searchAttributeCliArgs(keys: readonly AnyKey[] = HITL_SEARCH_ATTRIBUTES): string[] {
  return keys.flatMap((key) => ['--search-attribute', `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`]);
}

/**
 * Makes sure the namespace has the search attributes (the five Hitl* ones by default) with the right types:
 * adds the missing ones through the operator service, throws {@link SearchAttributeTypeMismatchError} when one
 * exists with another type (a registered type cannot be changed). Returns the names it added.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly AnyKey[] = HITL_SEARCH_ATTRIBUTES,
): Promise<string[]> {
  const missing = await checkSearchAttributes(connection, namespace, keys);
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, number> = {};
  for (const key of missing) searchAttributes[key.name] = encodeType(key);
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Someone else (another launcher, the CLI) may have added them meanwhile: check again.
    const stillMissing = await checkSearchAttributes(connection, namespace, keys);
    if (stillMissing.length > 0) throw err;
  }
  return missing.map((key) => key.name);
}

/** The keys that are not registered yet; throws when one is registered with another type. */
async function checkSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly AnyKey[],
): Promise<AnyKey[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const existing: Record<string, number | undefined> = customAttributes ?? {};
  const missing: AnyKey[] = [];
  for (const key of keys) {
    const have = existing[key.name];
    if (have === undefined) missing.push(key);
    else if (have !== encodeType(key)) {
      throw new SearchAttributeTypeMismatchError(
        `search attribute ${key.name} is registered on namespace ${namespace} with another type than ` +
          `${TypedSearchAttributes.toMetadataType(key.type)}; a type cannot be changed (use a fresh namespace or database)`,
      );
    }
  }
  return missing;
}

function encodeType(key: AnyKey): number {
  const encoded = encodeSearchAttributeIndexedValueType(key.type);
  if (encoded === undefined) throw new Error(`unknown search attribute type ${key.type}`);
  return encoded;
}
