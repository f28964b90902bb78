import pinned from './node-runtime.json';

/**
 * The Node.js the functions are deployed on, from infra/node-runtime.json: the one place that names
 * it. The Lambda runtime, the bundles' esbuild target and the Node the second test pass runs on
 * (`npm run test:lambda-node`, which installs `testNode` from the npm registry) all follow it.
 */
export const NODE_MAJOR: number = pinned.major;

/** Lambda's managed runtime identifier, e.g. `nodejs22.x`. */
export const LAMBDA_RUNTIME_NAME = `nodejs${NODE_MAJOR}.x`;

/** esbuild's target for the function bundles, e.g. `node22`. */
export const ESBUILD_TARGET = `node${NODE_MAJOR}`;

/** The exact Node.js release the tests run on for this runtime (the npm package's version). */
export const TEST_NODE_VERSION: string = pinned.testNode.version;
