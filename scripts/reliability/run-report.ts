/** How a reliability run ends: its report on stdout, saved as JSON where asked, FAILED (exit code 1) when it found problems. */
import { writeFileSync } from 'node:fs';

export function finishRun(name: string, text: string, report: unknown, jsonPath: string | undefined, problems: readonly string[]): void {
  process.stdout.write(text + '\n');
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify(report, null, 2));
  if (problems.length) {
    process.stderr.write(`${name}: FAILED: ${problems.join('; ')}\n`);
    process.exitCode = 1;
  }
}
