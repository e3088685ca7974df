import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leastSquaresSlope, parseGauges, renderSvg, slopeMiBPerHour } from './series.js';

test('leastSquaresSlope: exact on a line, the fit through noise, NaN without two distinct x', () => {
  assert.equal(leastSquaresSlope([[0, 1], [1, 3], [2, 5]]), 2);
  assert.ok(Math.abs(leastSquaresSlope([[0, 0], [1, 1.1], [2, 1.9], [3, 3.05]]) - 1.0) < 0.05);
  assert.ok(Number.isNaN(leastSquaresSlope([[1, 1]])));
  assert.ok(Number.isNaN(leastSquaresSlope([[1, 1], [1, 2]])));
});

test('slopeMiBPerHour: seconds and bytes to MiB/h, warm-up and unset gauges left out', () => {
  const MiB = 1048576;
  // flat at 100 MiB after a 60 s warm-up that grew fast; a 0 (gauge not yet set) in it
  const flat: Array<[number, number]> = [[0, 0], [30, 50 * MiB], [60, 100 * MiB], [120, 100 * MiB], [180, 100 * MiB]];
  assert.equal(slopeMiBPerHour(flat, 60), 0);
  // 1 MiB per minute = 60 MiB/h
  const growing: Array<[number, number]> = [0, 60, 120, 180, 240].map((t) => [t, (200 + t / 60) * MiB]);
  assert.ok(Math.abs(slopeMiBPerHour(growing, 0) - 60) < 1e-9);
  assert.ok(Number.isNaN(slopeMiBPerHour(growing, 1000)));
});

test('parseGauges: unlabelled values by name, the first labelled one otherwise; comments skipped', () => {
  const text = ['# HELP qx_x help', '# TYPE qx_x gauge', 'qx_x 12.5', 'qx_lag{quantile="0.99"} 0.02', 'qx_lag{quantile="0.5"} 0.01', 'qx_other 3'].join('\n');
  assert.deepEqual(parseGauges(text, ['qx_x', 'qx_lag', 'qx_missing']), { qx_x: 12.5, qx_lag: 0.02 });
});

test('renderSvg: a well-formed document with one polyline per series and its legend', () => {
  const svg = renderSvg('soak <test>', [
    { title: 'memory', unit: 'MiB', series: [{ label: 'rss', points: [[0, 10], [60, 12], [120, 11]] }, { label: 'heap', points: [[0, 5], [120, Number.NaN], [180, 6]] }] },
    { title: 'p99', unit: 'ms', series: [{ label: 'probe', points: [] }] },
  ]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2, 'an empty series draws no line');
  assert.ok(svg.includes('soak &lt;test&gt;'), 'text is escaped');
  for (const label of ['rss', 'heap', 'probe']) assert.ok(svg.includes(`>${label}</text>`));
  assert.ok(!svg.includes('NaN'), 'no NaN coordinates');
});
