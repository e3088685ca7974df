import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { throttle } from './throttle.js';

test('runs at once, then once more after a burst, never more often than asked', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let runs = 0;
    const t = throttle(() => runs++, 500);
    t();
    assert.equal(runs, 1);
    t();
    t();
    t();
    assert.equal(runs, 1);
    mock.timers.tick(499);
    assert.equal(runs, 1);
    mock.timers.tick(1);
    assert.equal(runs, 2, 'the trailing run');
    mock.timers.tick(1000);
    assert.equal(runs, 2);
    t();
    assert.equal(runs, 3, 'idle long enough: at once again');
  } finally {
    mock.timers.reset();
  }
});

test('cancel drops the pending run', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let runs = 0;
    const t = throttle(() => runs++, 500);
    t();
    t();
    t.cancel();
    mock.timers.tick(1000);
    assert.equal(runs, 1);
  } finally {
    mock.timers.reset();
  }
});
