/** The `stemscribe` command line: parses arguments, runs a command, turns errors into one line. */
import { Command, CommanderError } from 'commander';
import { isStemscribeError, InputError } from '../errors.js';
import { registerScoreCommand } from './commands/score.js';
import { registerTranscribeCommand } from './commands/transcribe.js';

export const EXIT_INPUT_ERROR = 2;
export const EXIT_FAILURE = 1;

export function buildProgram(): Command {
  const program = new Command('stemscribe')
    .description('Turn a recorded song into MIDI: separate stems, transcribe the piano, clean the notes up.')
    .showHelpAfterError()
    .exitOverride();
  registerTranscribeCommand(program);
  registerScoreCommand(program);
  return program;
}

/** One line a user can act on; a stack trace only with STEMSCRIBE_DEBUG=1. */
export function describeError(error: unknown): string {
  if (isStemscribeError(error)) return error.message;
  if (error instanceof Error) return `${error.message} (set STEMSCRIBE_DEBUG=1 for details)`;
  return String(error);
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_FAILURE;
    if (process.env.STEMSCRIBE_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.stderr.write(`stemscribe: error: ${describeError(error)}\n`);
    return error instanceof InputError ? EXIT_INPUT_ERROR : EXIT_FAILURE;
  }
}
