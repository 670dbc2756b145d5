/**
 * Setup file of the unit tier: a unit test opens no socket, starts no server and spawns no
 * process. Those belong to the integration tier, and this guard makes a misfiled test fail with a
 * message saying so instead of quietly slowing the unit tier down or needing a build.
 */
import childProcess, { ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

function refuse(what: string): never {
  throw new Error(
    `unit tier: ${what} is not allowed in a unit test (no sockets, servers or child processes). ` +
      'Move the test to the integration tier: name the file *.int.test.ts or list it in vitest.config.ts.',
  );
}

net.Server.prototype.listen = function listen(): never {
  refuse('listening on a socket');
} as typeof net.Server.prototype.listen;
net.Socket.prototype.connect = function connect(): never {
  refuse('opening a socket');
} as typeof net.Socket.prototype.connect;
// exec, execFile, fork and spawn all go through ChildProcess.prototype.spawn (internal, untyped).
(ChildProcess.prototype as unknown as { spawn: () => never }).spawn = function spawn(): never {
  refuse('spawning a process');
};
for (const name of ['spawnSync', 'execSync', 'execFileSync'] as const) {
  (childProcess as Record<string, unknown>)[name] = () => refuse(`${name}()`);
}
// Named ESM imports of node:child_process see the replaced functions too.
syncBuiltinESMExports();
