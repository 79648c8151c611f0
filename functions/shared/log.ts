/** One JSON object per line, as CloudWatch Logs Insights and Powertools' logger expect. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(service: string, sink: (line: string) => void = (l) => console.log(l)): Logger {
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    sink(JSON.stringify({ level, service, message, timestamp: new Date().toISOString(), ...fields }));
  };
  return {
    info: (m, f) => write('INFO', m, f),
    warn: (m, f) => write('WARN', m, f),
    error: (m, f) => write('ERROR', m, f),
  };
}

/** Logs go nowhere: used by the local cloud unless asked to be verbose. */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
