import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hopsBetween, parseHops } from './order-path.js';

const exposition = (n: number, sum: number) => `# HELP qx_order_path_seconds x
# TYPE qx_order_path_seconds histogram
qx_order_path_seconds_bucket{le="0.001",hop="queued"} ${n / 2}
qx_order_path_seconds_bucket{le="0.01",hop="queued"} ${n}
qx_order_path_seconds_bucket{le="+Inf",hop="queued"} ${n}
qx_order_path_seconds_sum{hop="queued"} ${sum}
qx_order_path_seconds_count{hop="queued"} ${n}
qx_other_bucket{le="1",hop="queued"} 99
`;

test('hops between two scrapes: counts, mean, and quantiles interpolated within buckets', () => {
  const a = parseHops(exposition(10, 0.02));
  const b = parseHops(exposition(110, 0.32));
  const [queued, ...rest] = hopsBetween(a, b);
  assert.equal(rest.length, 0, 'only hops the server reports');
  assert.equal(queued!.hop, 'queued');
  assert.equal(queued!.count, 100);
  assert.equal(queued!.meanMs, 3);
  // 50 of 100 at ≤ 1 ms: the median is the first bucket's bound; p99 lies within (1, 10] ms
  assert.equal(queued!.p50Ms, 1);
  assert.ok(queued!.p99Ms > 9 && queued!.p99Ms <= 10, String(queued!.p99Ms));
});

test('a server without the histogram has no hops', () => {
  assert.deepEqual(hopsBetween(parseHops(''), parseHops('# nothing\n')), []);
});
