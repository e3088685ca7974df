/**
 * `describeZodError`, plus the key at fault when the problem is a key that should not be there
 * (zod reports those on the enclosing object, so its path alone would not name the field).
 */
import { describeZodError } from '@qx/protocol';
import type { z } from 'zod';

export function describeInput(error: z.ZodError): { field: string; message: string } {
  const described = describeZodError(error);
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys' && issue.keys.length > 0) {
    const key = String(issue.keys[0]);
    return { ...described, field: described.field ? `${described.field}.${key}` : key };
  }
  return described;
}
