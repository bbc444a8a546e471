import { EXIT_USAGE, reportFailure, type Command } from './command.ts';

// Each command lives in its own module, loaded on demand so `sentinel drift` never loads onnxruntime.
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string; internal?: true }> = {
  serve: { load: async () => (await import('./serve.ts')).serveCommand, summary: 'run the inference API' },
  drift: { load: async () => (await import('./drift.ts')).driftCommand, summary: 'run one drift comparison' },
  reports: { load: async () => (await import('./reports.ts')).reportsCommand, summary: 'serve reports and drift metrics' },
  schedule: { load: async () => (await import('./schedule.ts')).scheduleCommand, summary: 'run drift periodically' },
  card: { load: async () => (await import('./card.ts')).cardCommand, summary: 'write or check the model card of an ONNX model' },
  operator: { load: async () => (await import('./operator.ts')).operatorCommand, summary: 'reconcile ModelMonitors into drift CronJobs (Kubernetes controller)' },
  demo: { load: async () => (await import('./demo.ts')).demoCommand, summary: 'the whole pipeline locally (npm start)' },
  // Started by `schedule` and `demo` (src/services/schedule/drift-process.ts); not for people.
  'drift-runner': { load: async () => (await import('./drift-runner.ts')).driftRunnerCommand, summary: 'drift runs read from stdin', internal: true },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).filter(([, c]) => !c.internal).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: sentinel <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "sentinel <command> --help" for the options of a command.\n`;
}

export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`sentinel: unknown command "${name}"\n${usage()}`);
    return EXIT_USAGE;
  }
  try {
    return await (await command.load())(rest, env);
  } catch (err) {
    // What a command throws: one line, exit 2 for a usage error, 1 for a runtime failure.
    return reportFailure(name, err);
  }
}
