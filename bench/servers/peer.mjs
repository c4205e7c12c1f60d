// Starts the peer (bench/servers/peer-server.mjs) as its own process with the bench's clients and user.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startChild } from './child.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startPeer({ options, fixtures, workDir, argon2Params }) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clients = {
    cc: { id: fixtures.clients.cc.id, secret: randomBytes(32).toString('base64url') },
    web: { id: fixtures.clients.web.id, secret: randomBytes(32).toString('base64url') },
    login: { id: fixtures.clients.login.id, secret: randomBytes(32).toString('base64url') },
    redirectUri: fixtures.clients.redirectUri,
  };
  const user = { ...fixtures.user, id: 'bench-user-1' };
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    BENCH_PEER_CONFIG: JSON.stringify({ port, alg: options.alg, clients, user, argon2Params, resource: fixtures.resource }),
    ...(options.uvThreadpoolSize ? { UV_THREADPOOL_SIZE: String(options.uvThreadpoolSize) } : {}),
  };
  const child = startChild('peer', [path.join(here, 'peer-server.mjs')], env, path.join(workDir, `peer-${port}.log`));
  try {
    await child.waitReady(`${issuer}/.well-known/openid-configuration`);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { name: 'peer', issuer, child, seed: async () => ({ clients, userId: user.id }) };
}
