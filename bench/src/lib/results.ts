/** Where a scenario's numbers go: a JSON file (and .hgrm histograms) under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { resultsDir } from './paths.js';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
  };
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Writes `name-<timestamp>.json` and returns its path. NaN becomes null in JSON. */
export function writeResult(name: string, data: unknown, dir = resultsDir): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${stamp()}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

export function writeText(fileName: string, text: string, dir = resultsDir): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  writeFileSync(path, `${text}\n`);
  return path;
}
