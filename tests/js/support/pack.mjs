// The npm package as a user gets it: `npm pack` of the repository, and a
// fresh project that installs the tarball (registry packages come from
// the npm cache the repository's install filled).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../..', import.meta.url));

export async function npm(args, cwd) {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    maxBuffer: 64 << 20,
    timeout: 180_000,
  });
  return stdout;
}

/** Packs the repository into `dir`: `{ tarball, files }` (paths in the package). */
export async function pack(dir) {
  const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], root));
  return { tarball: join(dir, packed[0].filename), files: packed[0].files.map((f) => f.path).sort() };
}

/**
 * A project in `dir` whose package.json has `fields` and that depends on
 * `tarball` plus `dependencies`; installed, offline where possible.
 */
export async function project(dir, tarball, fields = {}, dependencies = {}) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({
    name: 'wasmqtt-user',
    private: true,
    type: 'module',
    ...fields,
    dependencies: { wasmqtt: `file:${tarball}`, ...dependencies },
  }, null, 2));
  await npm(['install', '--prefer-offline'], dir);
}
