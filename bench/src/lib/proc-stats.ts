/**
 * CPU and memory of a process, read from /proc, so the bench measures the server (and each
 * load generator) from outside without asking it. CPU is utime+stime of all threads (GC and
 * libuv threads included); the kernel's share of socket writes is in stime.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU in these ticks (100 on every Linux we run on). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcSample {
  /** utime + stime, in microseconds (10 ms resolution) */
  cpuUs: number;
  rssKiB: number;
}

export function readCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name, which is in parentheses and may contain spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) : 0;
}

export function sampleProcess(pid: number): ProcSample {
  return { cpuUs: readCpuUs(pid), rssKiB: readRssKiB(pid) };
}

/** This process's own CPU (user + system), in microseconds, at µs resolution. */
export function selfCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export interface MachineSample {
  /** user + nice + system + irq + softirq, µs summed over all CPUs */
  busyUs: number;
  softirqUs: number;
  stealUs: number;
}

/** Whole-machine CPU from /proc/stat, to see what else ran during a window (other work, steal). */
export function sampleMachine(): MachineSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const us = (ticks: number): number => (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
  return { busyUs: us(user + nice + system + irq + softirq), softirqUs: us(softirq), stealUs: us(steal) };
}
