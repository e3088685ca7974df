import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextSort, sortRows, workingFirst } from './sort.js';

test('a column sorts ascending, then descending, then back to the table order; missing values last', () => {
  let s = nextSort<'price'>(null, 'price');
  const rows = [{ p: 3 }, { p: null }, { p: 1 }, { p: 2 }];
  assert.deepEqual(sortRows(rows, s, (r) => r.p).map((r) => r.p), [1, 2, 3, null]);
  s = nextSort(s, 'price');
  assert.deepEqual(sortRows(rows, s, (r) => r.p).map((r) => r.p), [3, 2, 1, null]);
  s = nextSort(s, 'price');
  assert.equal(s, null);
  assert.equal(sortRows(rows, s, (r) => r.p), rows);
});

test('working orders first, newest first within each group', () => {
  const o = (id: string, status: string, t: number) => ({ id, status, createdAt: new Date(t).toISOString() });
  const sorted = workingFirst([o('filled-new', 'filled', 5), o('working-old', 'new', 1), o('rejected', 'rejected', 4), o('partial', 'partially_filled', 3)]);
  assert.deepEqual(sorted.map((x) => x.id), ['partial', 'working-old', 'filled-new', 'rejected']);
});
