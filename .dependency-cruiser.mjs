/**
 * Layering rules for src/ and workers/, checked by dependency-cruiser (`npm run lint:deps`, also a
 * step of `npm test` and `npm run lint`). Every rule is an error: a broken one fails the build.
 * The rooms and their allowed directions are drawn in docs/ARCHITECTURE.md.
 */

/** The pure engine: no DOM, no UI libraries, no onnxruntime, no worker plumbing. */
const ENGINE = '^src/(core|io|arch|graph|saliency|prune|eval|api|exporters|quantize)/';
/** Test files and test helpers may reach across rooms to build fixtures (golden tests build the studio api). */
const TESTS = ['\\.test\\.tsx?$', '^src/test-util/'];
/** A package in node_modules (the path dependency-cruiser resolves to, symlinked install or not). */
const pkg = (names) => `(^|/)node_modules/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles in src/ or workers/ (type-only imports count).',
      from: { path: '^(src|workers)/' },
      to: { circular: true },
    },
    {
      name: 'engine-no-ui-or-runtime-libs',
      severity: 'error',
      comment: 'The engine imports neither React, state/chart libraries, comlink nor onnxruntime.',
      from: { path: ENGINE },
      to: { path: pkg(['react', 'react-dom', 'zustand', 'recharts', 'comlink', 'onnxruntime-[^/]+']) },
    },
    {
      name: 'engine-no-outer-rooms',
      severity: 'error',
      comment: 'The engine never depends on the UI, the store, the runtime, the CLI or the worker.',
      from: { path: ENGINE, pathNot: TESTS },
      to: { path: '^(src/(ui|store|runtime|cli)/|src/main\\.tsx$|workers/)' },
    },
    {
      name: 'saliency-prune-not-api',
      severity: 'error',
      comment: 'saliency/ and prune/ sit below api/: shared job types live in core/.',
      from: { path: '^src/(saliency|prune)/', pathNot: TESTS },
      to: { path: '^src/api/' },
    },
    {
      name: 'cli-only-through-api',
      severity: 'error',
      comment: 'The CLI reaches the engine only through src/api (plus core types and the Node runner).',
      from: { path: '^src/cli/', pathNot: TESTS },
      to: { path: '^(src|workers)/', pathNot: '^src/(api|core|cli)/|^src/runtime/ort-node\\.ts$' },
    },
    {
      name: 'ui-through-the-worker',
      severity: 'error',
      comment: 'The UI and the store reach the runtime only through the worker (src/ui/studio-client.ts).',
      from: { path: '^src/(ui|store)/|^src/main\\.tsx$' },
      to: { path: '^src/runtime/' },
    },
    {
      name: 'store-below-ui',
      severity: 'error',
      comment: 'The store holds state and setters; the UI drives it, never the other way round.',
      from: { path: '^src/store/' },
      to: { path: '^src/ui/' },
    },
    {
      name: 'only-runtime-imports-onnxruntime',
      severity: 'error',
      comment:
        'Only src/runtime imports onnxruntime. Node tests (and their helpers in src/test-util) may open an exported model with onnxruntime-node as an independent check.',
      from: { path: '^(src|workers)/', pathNot: ['^src/runtime/', '\\.test\\.ts$', '^src/test-util/'] },
      to: { path: pkg(['onnxruntime-[^/]+']) },
    },
    {
      name: 'tests-only-onnxruntime-node',
      severity: 'error',
      comment: 'Tests outside src/runtime may use onnxruntime-node as a reference, never the web build.',
      from: { path: ['\\.test\\.ts$', '^src/test-util/'], pathNot: '^src/runtime/' },
      to: { path: pkg(['onnxruntime-web', 'onnxruntime-common']) },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo or a missing package would otherwise hide from the rules above).',
      from: { path: '^(src|workers)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
