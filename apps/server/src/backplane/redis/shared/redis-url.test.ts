import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterNodesUrl, maskRedisUrl, parseRedisUrl } from './redis-url.js';

test('one Redis or a Redis Cluster, by scheme; the cluster seeds with credentials and TLS', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379'), { mode: 'single', url: 'redis://127.0.0.1:6379' });
  assert.deepEqual(parseRedisUrl('rediss://:pw@cache:6380/2'), { mode: 'single', url: 'rediss://:pw@cache:6380/2' });
  assert.deepEqual(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001'), {
    mode: 'cluster',
    tls: false,
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ],
  });
  assert.deepEqual(parseRedisUrl('rediss+cluster://app:s%40cret@redis-a:7000,[::1]:7001/'), {
    mode: 'cluster',
    tls: true,
    username: 'app',
    password: 's@cret',
    nodes: [
      { host: 'redis-a', port: 7000 },
      { host: '::1', port: 7001 },
    ],
  });
  assert.deepEqual(parseRedisUrl('redis+cluster://:only-password@h:7000'), { mode: 'cluster', tls: false, password: 'only-password', nodes: [{ host: 'h', port: 7000 }] });
});

test('bad Redis URLs and seed lists say what is wrong', () => {
  assert.deepEqual(parseRedisUrl('http://x'), { error: 'must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL' });
  assert.deepEqual(parseRedisUrl('redis+cluster://h:7000,h'), { error: '"h" is not host:port' });
  assert.deepEqual(parseRedisUrl('redis+cluster://h:7000,,h:7001'), { error: 'an empty seed is not host:port' });
  assert.deepEqual(parseRedisUrl('redis+cluster://h:99999'), { error: '"h:99999" is not host:port' });
  assert.deepEqual(parseRedisUrl('redis+cluster://h:7000/0'), { error: 'must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL' });
  assert.equal(clusterNodesUrl('a:7000, b:7001'), 'redis+cluster://a:7000,b:7001');
  assert.deepEqual(clusterNodesUrl('a:7000,b'), { error: '"b" is not host:port' });
});

test('passwords are masked, in both forms', () => {
  assert.equal(maskRedisUrl('redis://:secret@h:6379'), 'redis://:***@h:6379');
  assert.equal(maskRedisUrl('redis://h:6379'), 'redis://h:6379');
  assert.equal(maskRedisUrl('rediss+cluster://app:secret@a:7000,[::1]:7001'), 'rediss+cluster://app:***@a:7000,[::1]:7001');
  assert.equal(maskRedisUrl('redis+cluster://a:7000'), 'redis+cluster://a:7000');
  assert.equal(maskRedisUrl('not a url'), '***');
});
