import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (µs, user + system) used so far on this machine, grouped: the processes named in `named`
 * (pid → group), this process ('client'), the Kafka broker (any java process), other live processes,
 * interrupt time ('irq': hard and soft interrupts, e.g. loopback TCP's receive side, which a kernel
 * with IRQ time accounting charges to no process; 0 on one without) and the machine's total busy
 * time (/proc/stat). PostgreSQL is what `cpuPerUnit` derives as total
 * minus the others: its backends come and go with the pools, so summing live processes would miss
 * some. Empty where there is no /proc. Shared by the pipeline and access-API benches.
 */
export function machineCpu(named: Readonly<Record<number, string>> = {}): Record<string, number> {
  const groups: Record<string, number> = {};
  const tick = 1e6 / 100; // USER_HZ
  let pids: string[] = [];
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    groups['total'] = (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * tick;
    groups['irq'] = (irq! + softirq!) * tick;
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return {};
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (comm === 'postgres') continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const us = (Number(f[11]) + Number(f[12])) * tick;
    const group = named[Number(pid)] ?? (Number(pid) === process.pid ? 'client' : comm === 'java' ? 'Kafka' : 'other');
    groups[group] = (groups[group] ?? 0) + us;
  }
  return groups;
}

/**
 * CPU µs per unit (event, request) between two `machineCpu` readings, by group, PostgreSQL first:
 * e.g. `PostgreSQL 368, API 795, client 197, Kafka 47, irq 60, other 3, machine 1435`.
 */
export function cpuPerUnit(before: Record<string, number>, after: Record<string, number>, units: number, groups: readonly string[]): string {
  const d = (g: string) => (after[g] ?? 0) - (before[g] ?? 0);
  const known = [...groups, 'client', 'Kafka', 'irq', 'other'];
  const postgres = d('total') - known.reduce((n, g) => n + d(g), 0);
  return [`PostgreSQL ${Math.round(postgres / units)}`, ...known.map((g) => `${g} ${Math.round(d(g) / units)}`), `machine ${Math.round(d('total') / units)}`].join(', ');
}
