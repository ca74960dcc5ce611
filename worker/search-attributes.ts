import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { searchAttributes } from '../workflows/definitions';

const { INDEXED_VALUE_TYPE_KEYWORD, INDEXED_VALUE_TYPE_KEYWORD_LIST } = temporal.api.enums.v1.IndexedValueType;

/** Registers Herald's search attributes in the namespace, once; a no-op when they exist. */
export async function registerSearchAttributes(connection: NativeConnection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
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
