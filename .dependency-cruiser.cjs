// The layering of src/, checked by `npm test` (dependency-cruiser). The
// layers and the reasons behind them are in docs/architecture.md; an
// exception is allowed only when it is listed there, with its reason, and in
// EXCEPTIONS below.
//
// Lowest first: a folder may import its own files and the layers below it,
// never one above (type-only imports count too: a type is part of the
// interface a layer depends on).
const LAYERS = ['util', 'workload', 'arch', 'mapping', 'model', 'mapper', 'timeloop', 'inputs', 'fusion', 'sweeps', 'build', 'slurm', 'pipeline', 'report', 'cli'];

// The build engine and its executors know no task kind and no study: they
// stand beside the domain layers (kinds are handed to them in a registry).
const ENGINE_MAY_IMPORT = { build: ['util', 'build'], slurm: ['util', 'build', 'slurm'] };

/** [from, to, reason]: each also listed in docs/architecture.md. */
const EXCEPTIONS = [];

// The one file cycle left, deliberate (docs/architecture.md, Layers): the map
// kind loads its runners lazily (import()) so that planning and no-op runs do
// not load the model and the mapper; they import map.ts back for its types.
const CYCLE_EXCEPTIONS = ['^src/pipeline/kinds/map(-run|-timeloop)?[.]ts$'];

// Modules of the domain layers that read files anyway, with the reason (also
// in docs/architecture.md): everything else reading input is in src/inputs/.
const DOMAIN_IO_EXCEPTIONS = [
  // The energy estimator's own tables (CACTI, Aladdin, NeuroSim; data/energy/), shipped with expt like
  // constants, read once on first use; not user input.
  '^src/arch/energy/data[.]ts$',
];

const folder = (name) => `^src/${name}/`;
const exceptionPaths = (from) => EXCEPTIONS.filter(([f]) => f === from).map(([, to]) => to);

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1);
  if (above.length === 0) return [];
  return [
    {
      name: `layer-${layer}`,
      comment: `src/${layer}/ may import only src/${layer}/ and the layers below it (${LAYERS.slice(0, i).join(', ') || 'none'})`,
      severity: 'error',
      from: { path: folder(layer) },
      to: { path: `^src/(${above.join('|')})/`, pathNot: exceptionPaths(layer) },
    },
  ];
});

module.exports = {
  forbidden: [
    ...layerRules,
    ...Object.entries(ENGINE_MAY_IMPORT).map(([engine, allowed]) => ({
      name: `${engine}-knows-no-study`,
      comment: `src/${engine}/ is part of the generic build engine: it imports only ${allowed.map((a) => `src/${a}/`).join(', ')} (task kinds are handed to it in a registry)`,
      severity: 'error',
      from: { path: folder(engine) },
      to: { path: '^src/', pathNot: [...allowed.map(folder), ...exceptionPaths(engine)] },
    })),
    {
      name: 'no-file-cycle',
      comment: 'no file cycle anywhere in src/ (the build engine, the domain folders, the study), but the one listed in CYCLE_EXCEPTIONS',
      severity: 'error',
      from: { pathNot: CYCLE_EXCEPTIONS },
      to: { circular: true },
    },
    {
      name: 'no-io-in-domain',
      comment: 'workload, arch, mapping, model and mapper do no file I/O: loaders live in src/inputs/',
      severity: 'error',
      from: { path: '^src/(workload|arch|mapping|model|mapper)/', pathNot: DOMAIN_IO_EXCEPTIONS },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|child_process)$' },
    },
    {
      name: 'no-tests-from-src',
      comment: 'the program never imports the tests or the benches',
      severity: 'error',
      from: { path: '^(src|bin)/' },
      to: { path: '^(tests|bench)/' },
    },
    {
      name: 'no-unresolvable',
      comment: 'every import resolves (a typo in a path is caught here, before a user runs into it)',
      severity: 'error',
      from: { path: '^(src|bin)/' },
      to: { couldNotResolve: true, pathNot: ['^pnpapi$', '^source-map-support$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    // Packages' `exports` maps (csv-parse/sync, tsx/esm/api), as Node resolves them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['module', 'main'] },
  },
};
