#!/usr/bin/env node
// Runs a command on the Node.js the functions are deployed on (infra/node-runtime.json names it):
// installs that exact release from the npm registry into .ci/lambda-node/ when it is not there yet,
// then runs the command with its bin/ first on PATH, so `npm`, `vitest` and every child `node` use it.
// Usage: node .ci/with-lambda-node.mjs <command> [args...]   e.g. `... npm test`, `... npm run demo`
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { major, testNode } = JSON.parse(readFileSync(join(root, 'infra', 'node-runtime.json'), 'utf8'));
const prefix = join(root, '.ci', 'lambda-node');
const bin = join(prefix, 'node_modules', testNode.package, 'bin', 'node');
const wanted = `v${testNode.version}`;

function fail(message) {
  console.error(`with-lambda-node: ${message}`);
  process.exit(1);
}

const [command, ...args] = process.argv.slice(2);
if (!command) fail('usage: node .ci/with-lambda-node.mjs <command> [args...]');
if (!testNode.version.startsWith(`${major}.`)) fail(`infra/node-runtime.json pins Node ${testNode.version} for runtime nodejs${major}.x`);
if (`${process.platform}-${process.arch}` !== 'linux-x64') fail(`${testNode.package} only runs on linux-x64, not ${process.platform}-${process.arch}`);

const versionOf = (node) => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim();
/** The integrity npm recorded for the installed package (npm checked the tarball against it). */
function installedIntegrity() {
  const lock = join(prefix, 'node_modules', '.package-lock.json');
  if (!existsSync(lock)) return undefined;
  return JSON.parse(readFileSync(lock, 'utf8')).packages?.[`node_modules/${testNode.package}`]?.integrity;
}
const installed = () => existsSync(bin) && installedIntegrity() === testNode.integrity && versionOf(bin) === wanted;

if (!installed()) {
  console.error(`with-lambda-node: installing ${testNode.package}@${testNode.version} into .ci/lambda-node/`);
  const npm = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `${testNode.package}@${testNode.version}`], {
    stdio: 'inherit',
  });
  if (npm.status !== 0) fail(`npm install of ${testNode.package}@${testNode.version} failed (exit ${npm.status ?? npm.signal})`);
  if (!installed()) {
    const found = { integrity: installedIntegrity(), version: existsSync(bin) ? versionOf(bin) : 'no bin/node' };
    rmSync(prefix, { recursive: true, force: true });
    fail(`${testNode.package}@${testNode.version} installed as ${JSON.stringify(found)}; infra/node-runtime.json pins ${wanted} with ${testNode.integrity}`);
  }
}

const env = { ...process.env, PATH: [dirname(bin), process.env.PATH].join(delimiter), BUCKET_BRIDGE_EXPECTED_NODE: wanted };
const run = spawnSync(command, args, { stdio: 'inherit', env });
if (run.error) fail(`${command}: ${run.error.message}`);
process.exit(run.status ?? 1);
