// Starts `brownout serve` on a free port for one test file and stops it afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function startFleet(scenario = join(here, 'fleet.toml')) {
  const bin = process.env.BROWNOUT_BIN;
  if (!bin) throw new Error('BROWNOUT_BIN must point at the brownout binary (ctest sets it)');
  const dir = mkdtempSync(join(tmpdir(), 'brownout-sdk-'));
  const ready = join(dir, 'ready.json');
  const child = spawn(bin, ['serve', scenario, '--listen', '127.0.0.1:0', '--ready-file', ready], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 10_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null) throw new Error(`brownout serve exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('brownout serve did not become ready');
    await new Promise((r) => setTimeout(r, 25));
  }
  const urls = Object.fromEntries(JSON.parse(readFileSync(ready, 'utf8')).providers.map((p) => [p.id, p.url]));
  return {
    urls,
    async journal(provider) {
      const res = await fetch(`${urls[provider]}/_brownout/journal`);  // that provider's own attempts
      return (await res.json()).attempts.filter((a) => a.provider === provider);
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

// The verification tag every brownout answer ends with.
export const TAG = /\[bo:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}\]$/;
