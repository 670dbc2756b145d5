/** Reads values out of the server's /metrics text (Prometheus exposition format). */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `where` (all of them when `where` is empty). */
export function sumMetric(text: string, name: string, where: (labels: Record<string, string>) => boolean = () => true): number {
  return parseMetrics(text)
    .filter((s) => s.name === name && where(s.labels))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Requests the server answered with a 5xx, by its own count. */
export function serverErrors(text: string): number {
  return sumMetric(text, 'corom_http_requests_total', (l) => (l.status ?? '').startsWith('5'));
}
