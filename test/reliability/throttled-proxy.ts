/**
 * An HTTP proxy on 127.0.0.1 in front of another local server that slows down the responses
 * whose URL matches, so a download is reliably caught mid-file.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ThrottledProxy {
  url: string;
  close(): Promise<void>;
}

export async function startThrottledProxy(target: string, options: { match: (url: string) => boolean; bytesPerTick: number; tickMs: number }): Promise<ThrottledProxy> {
  const origin = new URL(target);
  const server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: origin.hostname, port: origin.port, path: req.url, method: req.method, headers: { ...req.headers, host: origin.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!options.match(req.url ?? '')) return void answer.pipe(res);
        // Forward `bytesPerTick` bytes per tick, pausing the upstream in between.
        answer.on('data', (chunk: Buffer) => {
          answer.pause();
          let offset = 0;
          const step = (): void => {
            if (res.destroyed) return void answer.destroy();
            res.write(chunk.subarray(offset, offset + options.bytesPerTick));
            offset += options.bytesPerTick;
            if (offset < chunk.length) setTimeout(step, options.tickMs);
            else setTimeout(() => answer.resume(), options.tickMs);
          };
          step();
        });
        answer.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
