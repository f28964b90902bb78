import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ESBUILD_TARGET } from '../infra/node-runtime';
import { CHILD_ENV, median, REPO_ROOT, reportResult } from './lib';

/**
 * Lambda cold start, per function: bundles `functions/<name>/handler.ts` the way
 * infra/bridge-function.ts has CDK do it (ESM, minified, the runtime's target, source maps, the
 * createRequire banner, `@aws-sdk/*` external), then times `import()` of the bundle in fresh `node`
 * processes (median of several), with NODE_OPTIONS=--enable-source-maps as deployed and without.
 *
 * SDKs per bundle come from esbuild's metafile, following only static imports from the handler
 * (what module initialisation loads); SDKs reached only through `import()` are listed as lazy.
 * What the needless SDKs cost is measured on the bundle itself: the same bundle built with those
 * packages replaced by an empty stub, imported alternately with the real one (median of each).
 * Also from the metafile: the bytes Powertools and the X-Ray SDK add to the bundle, and any package
 * bundled from two places (two copies: larger, and `instanceof` across them fails).
 * Usage: cold-start.ts [repetitions]
 */
const repetitions = Number(process.argv[2] ?? '5');
// Under node_modules so the external `@aws-sdk/*` imports resolve from the repository's node_modules,
// as they resolve from the runtime's in Lambda.
const outRoot = join(REPO_ROOT, 'node_modules', '.cache', 'bucket-bridge-bench');
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module';const require = createRequire(import.meta.url);";
const TIMER = `const t0 = performance.now(); await import(process.argv[1]); process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }));`;
const BUNDLED_SDKS = ['@google-cloud/storage'];

/**
 * The SDK packages each function's code path really calls (from shared/run/*, workers.ts and the
 * handlers): the S3 client and lib-storage only where `depsFor` builds stores, the presigner only
 * where URLs are signed (submission), Secrets Manager only where the target's key (depsFor → target)
 * or the webhook secret is read, SQS only where a queue is sent to, GCS where stores are built
 * (needed when a location is gs://).
 */
const USES: Record<string, string[]> = {
  'scheduled-run': ['client-dynamodb', 'lib-dynamodb', 'client-sqs', 'client-secrets-manager', 'client-s3', 'lib-storage', 's3-request-presigner', '@google-cloud/storage'],
  'continue-submission': ['client-dynamodb', 'lib-dynamodb', 'client-sqs', 'client-secrets-manager', 'client-s3', 'lib-storage', 's3-request-presigner', '@google-cloud/storage'],
  // Records created objects: the pending batch (DynamoDB) and a flush message (SQS), nothing else.
  'object-created': ['client-dynamodb', 'lib-dynamodb', 'client-sqs'],
  // Confirms ingest and starts the job, or ends the run with its summary; with Extend or LlamaCloud
  // it queues an export plan (SQS). Signs no URL.
  'start-job': ['client-dynamodb', 'lib-dynamodb', 'client-sqs', 'client-secrets-manager', 'client-s3', 'lib-storage', '@google-cloud/storage'],
  // Verifies, records, queues the follow-up: builds no store, signs no URL, needs no Roboflow key.
  webhook: ['client-dynamodb', 'lib-dynamodb', 'client-sqs', 'client-secrets-manager'],
  // Plans (one message per file) and copies into the destination; signs URLs only to resubmit
  // Extend inputs that expired (the presigner loads on that first use).
  export: ['client-dynamodb', 'lib-dynamodb', 'client-sqs', 'client-secrets-manager', 'client-s3', 'lib-storage', '@google-cloud/storage'],
};

const shortName = (pkg: string) => pkg.replace('@aws-sdk/', '');
const fullName = (name: string) => (name.startsWith('@') ? name : `@aws-sdk/${name}`);

/**
 * SDK packages the bundle loads at module initialisation, and those it loads only on first use.
 * esbuild (ESM, no splitting) evaluates a bundled module reached only through `import()` lazily,
 * but hoists every external `import` statement of every bundled module to the top of the bundle:
 * an external SDK is lazy only when it is itself loaded with `import()` (or `require()` from a
 * lazily evaluated module).
 */
function sdkReach(metafile: Metafile, entry: string) {
  const walk = (kinds: Set<string>) => {
    const seen = new Set<string>([entry]);
    const queue = [entry];
    while (queue.length > 0) {
      for (const i of metafile.inputs[queue.pop()!]?.imports ?? []) {
        if (i.external || !kinds.has(i.kind) || seen.has(i.path)) continue;
        seen.add(i.path);
        queue.push(i.path);
      }
    }
    return seen;
  };
  const eager = walk(new Set(['import-statement', 'require-call']));
  const bundled = walk(new Set(['import-statement', 'require-call', 'dynamic-import']));
  const atInit = new Set<string>();
  const any = new Set<string>();
  for (const path of bundled) {
    for (const pkg of BUNDLED_SDKS) {
      if (!path.includes(`node_modules/${pkg}/`)) continue;
      any.add(pkg);
      if (eager.has(path)) atInit.add(pkg);
    }
    for (const i of metafile.inputs[path]?.imports ?? []) {
      if (!i.external || !i.path.startsWith('@aws-sdk/')) continue;
      const pkg = i.path.split('/').slice(0, 2).join('/');
      any.add(pkg);
      if (i.kind === 'import-statement' || (i.kind === 'require-call' && eager.has(path))) atInit.add(pkg);
    }
  }
  return { atInit: [...atInit].sort(), lazy: [...any].filter((s) => !atInit.has(s)).sort() };
}

/** The package a bundled file belongs to (`@scope/name` or `name`), from its innermost node_modules. */
function packageOf(path: string): { name: string; root: string } | undefined {
  const at = path.lastIndexOf('node_modules/');
  if (at === -1) return undefined;
  const parts = path.slice(at + 'node_modules/'.length).split('/');
  const name = parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  return { name, root: path.slice(0, at) + 'node_modules/' + name };
}

/** Bytes of Powertools and the X-Ray SDK (with its dependencies) in the bundle, and packages bundled from two places (theirs, and others'). */
const OBSERVABILITY = /^(@aws-lambda-powertools\/|@aws\/lambda-invoke-store$|aws-xray-sdk-core$|cls-hooked$|async-hook-jl$|atomic-batcher$|emitter-listener$|shimmer$|stack-chain$|semver$|@standard-schema\/)/;
function bundledPackages(metafile: Metafile, outfile: string) {
  const output = Object.entries(metafile.outputs).find(([path]) => outfile.endsWith(path.replace(/^(\.\.\/)+/, '')))?.[1];
  const roots = new Map<string, Set<string>>();
  let observabilityBytes = 0;
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = packageOf(path);
    if (!pkg) continue;
    if (!roots.has(pkg.name)) roots.set(pkg.name, new Set());
    roots.get(pkg.name)!.add(pkg.root);
    if (OBSERVABILITY.test(pkg.name)) observabilityBytes += bytesInOutput;
  }
  const duplicated = [...roots].filter(([, r]) => r.size > 1).map(([name]) => name).sort();
  return { observabilityBytes, duplicated: duplicated.filter((n) => OBSERVABILITY.test(n)), otherDuplicated: duplicated.filter((n) => !OBSERVABILITY.test(n)) };
}

/** Milliseconds to import the bundle in a fresh process. */
function timeImport(file: string, extraEnv: NodeJS.ProcessEnv): number {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', TIMER, file], {
    cwd: REPO_ROOT,
    env: { ...CHILD_ENV, ...extraEnv },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`import of ${file} failed: ${r.stderr.slice(-2000)}`);
  return (JSON.parse(r.stdout) as { ms: number }).ms;
}

/** The function's bundle, as CDK builds it; `stub` packages become an empty module. */
async function bundle(name: string, outfile: string, stub: string[] = []) {
  return build({
    entryPoints: [join(REPO_ROOT, 'functions', name, 'handler.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: ['@aws-sdk/*'],
    outfile,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'stub-sdks',
        setup(b) {
          if (stub.length === 0) return;
          const filter = new RegExp(`^(${stub.map((p) => p.replace(/[/@.-]/g, (c) => `\\${c}`)).join('|')})(/.*)?$`);
          b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'stub' }));
          // Any export is a do-nothing class, so module-level `extends` and `new` still work.
          b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
            contents: 'module.exports = new Proxy({}, { get: (_, k) => (k === "__esModule" ? false : class {}) });',
            loader: 'js',
          }));
        },
      },
    ],
  });
}

const functions = readdirSync(join(REPO_ROOT, 'functions')).filter((name) => statSync(join(REPO_ROOT, 'functions', name, 'handler.ts'), { throwIfNoEntry: false }));
const rows = [];
try {
  for (const name of functions) {
    const outdir = join(outRoot, name);
    mkdirSync(outdir, { recursive: true });
    writeFileSync(join(outdir, 'package.json'), '{"type":"module"}');
    const outfile = join(outdir, 'index.mjs');
    const result = await bundle(name, outfile);
    const { atInit, lazy } = sdkReach(result.metafile, `functions/${name}/handler.ts`);
    const packages = bundledPackages(result.metafile, outfile);
    const uses = USES[name] ?? atInit.map(shortName);
    const needless = atInit.map(shortName).filter((s) => !uses.includes(s));
    const lean = join(outdir, 'lean.mjs');
    if (needless.length > 0) await bundle(name, lean, needless.map(fullName));
    // Interleaved repetitions, so drift hits every variant alike.
    const deployed: number[] = [];
    const plain: number[] = [];
    const withoutNeedless: number[] = [];
    for (let i = 0; i < repetitions; i++) {
      deployed.push(timeImport(outfile, { NODE_OPTIONS: '--enable-source-maps' }));
      plain.push(timeImport(outfile, { NODE_OPTIONS: '' }));
      if (needless.length > 0) withoutNeedless.push(timeImport(lean, { NODE_OPTIONS: '' }));
    }
    rows.push({
      name,
      bundleBytes: statSync(outfile).size,
      mapBytes: statSync(`${outfile}.map`).size,
      importMs: median(deployed),
      importMsNoSourceMaps: median(plain),
      sdkAtInit: atInit.map(shortName),
      sdkLazy: lazy.map(shortName),
      needless,
      needlessMs: needless.length === 0 ? 0 : median(plain) - median(withoutNeedless),
      leanBundleBytes: needless.length === 0 ? undefined : statSync(lean).size,
      observabilityBytes: packages.observabilityBytes,
      duplicatedPackages: packages.duplicated,
      otherDuplicatedPackages: packages.otherDuplicated,
    });
  }
} finally {
  rmSync(outRoot, { recursive: true, force: true });
}
reportResult({ repetitions, functions: rows });
