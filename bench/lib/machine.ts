/** Machine and code details stored with every benchmark result, so runs can be compared. */
import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cpuCores: number;
  ramGiB: number;
  freeRamGiBAtStart: number;
  platform: string;
  nodeVersion: string;
  loadAverageAtStart: number[];
  gitCommit: string;
  gitDirty: boolean;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cpuCores: cpu.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeRamGiBAtStart: Math.round((freemem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()}`,
    nodeVersion: process.version,
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    gitCommit: git(['rev-parse', 'HEAD']) || 'unknown',
    gitDirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  };
}

export function machineLine(m: MachineInfo): string {
  return (
    `${m.cpuCores} x ${m.cpuModel}, ${m.ramGiB} GiB RAM, ${m.platform}, Node ${m.nodeVersion}, ` +
    `commit ${m.gitCommit.slice(0, 10)}${m.gitDirty ? ' (+uncommitted changes)' : ''}, load average at start ${m.loadAverageAtStart.join(' ')}`
  );
}
