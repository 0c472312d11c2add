import { readdirSync, readFileSync } from 'node:fs';

/**
 * Live descendants of this process (children, and their children: the
 * engine pool's sessions) whose command name starts with `prefix` (from /proc).
 */
export function childProcesses(prefix: string): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...; comm may hold spaces, so split after the last ')'.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(open + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (state === 'Z') continue;
    parents.set(Number(entry), Number(ppid));
    names.set(Number(entry), comm);
  }
  const descends = (pid: number): boolean => {
    for (let up = parents.get(pid); up !== undefined && up > 1; up = parents.get(up)) {
      if (up === process.pid) return true;
    }
    return false;
  };
  return [...names].filter(([pid, comm]) => comm.startsWith(prefix) && descends(pid)).map(([pid]) => pid);
}
