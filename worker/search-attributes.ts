import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { searchAttributes } from '../workflows/definitions';

const { INDEXED_VALUE_TYPE_KEYWORD, INDEXED_VALUE_TYPE_KEYWORD_LIST } = temporal.api.enums.v1.IndexedValueType;

/** Registers Herald's search attributes in the namespace, once; a no-op when they exist. */
export async function registerSearchAttributes(connection: NativeConnection, namespace: string): Promise<void> {
  const customAttributes = await listCustomAttributes(connection, namespace);
  const wanted = Object.fromEntries(
    Object.values(searchAttributes).map((key) => [
      key.name,
      key.type === SearchAttributeType.KEYWORD_LIST ? INDEXED_VALUE_TYPE_KEYWORD_LIST : INDEXED_VALUE_TYPE_KEYWORD,
    ]),
  );
  const missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(name in (customAttributes ?? {}))));
  if (Object.keys(missing).length === 0) return;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
}

const GRPC_UNIMPLEMENTED = 12;

/** The time-skipping test server can add search attributes but not list them: it starts with none. */
async function listCustomAttributes(connection: NativeConnection, namespace: string) {
  try {
    return (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes;
  } catch (error) {
    if ((error as { code?: number }).code === GRPC_UNIMPLEMENTED) return {};
    throw error;
  }
}
