/** How `pg` hands this store its values. */
import pg from 'pg';

/** BIGINT (int8) columns come back as strings by default: seqs and times here fit a double exactly. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${value} is beyond Number.MAX_SAFE_INTEGER`);
  return n;
}

/** Per-connection type parsers (not pg's global ones, which other code in the process may rely on). */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === (pg.types.builtins.INT8 as number) && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format ?? 'text') as unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

