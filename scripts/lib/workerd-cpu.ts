/**
 * CPU time of the workerd processes this process started (wrangler's local runtime), read from
 * /proc: local workerd reports no per-request CPU, so a measurement reads the run time of every
 * thread of every such process before and after a request (Linux only).
 */
import { readdir, readFile } from 'node:fs/promises';

/** The workerd processes that are children of this process. */
export async function workerdPids(): Promise<Set<number>> {
  const out = new Set<number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (match && match[1] === 'workerd' && Number(match[2]) === process.pid) out.add(Number(name));
  }
  return out;
}

/** CPU nanoseconds of all threads of `pid` so far (0 once it is gone). */
export async function cpuNs(pid: number): Promise<number> {
  let total = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '0');
    total += Number(text.split(' ')[0]);
  }
  return total;
}

/** CPU nanoseconds so far of every workerd process this process started (scanned afresh each call). */
export async function allWorkerdCpuNs(): Promise<number> {
  let total = 0;
  for (const pid of await workerdPids()) total += await cpuNs(pid);
  return total;
}
