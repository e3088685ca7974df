import { benchMatching } from './bench-matching.js';
for (let r = 0; r < 4; r++) console.log(JSON.stringify(benchMatching({ operations: 1_000_000, seed: 42, through: 'exchange' })));
