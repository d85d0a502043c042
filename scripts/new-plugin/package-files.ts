/**
 * The files that describe a new plugin: its README and, outside the store's own tree, its
 * package.json.
 */

/** How a plugin outside the store's tree installs the store and tsx (npm specs). */
export interface PluginInstall {
  store: string;
  tsx: string;
}

/**
 * The store is not on the npm registry: the peer dependency alone would make `npm install`
 * fetch it and fail, so the store's checkout is a `file:` dev dependency (npm links it).
 * tsx runs the `.ts` test; esbuild, under tsx, has an install script to allow.
 */
export function packageJson(name: string, install: PluginInstall): string {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    main: 'index.ts',
    scripts: { test: 'node --import tsx --test conformance.test.ts' },
    peerDependencies: { 'cc-event-store': '>=0.1.0' },
    devDependencies: { 'cc-event-store': install.store, tsx: install.tsx },
    allowScripts: { esbuild: true },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** The README of a new plugin; `ownPackage`: it has a package.json of its own. */
export function readme(kind: string, name: string, ownPackage: boolean): string {
  const dataFile =
    kind === 'storage' ? '| `data-file.ts` | the JSON-lines file the storage keeps |\n' : '';
  return `# ${name}

A cc-event-store ${kind} plugin. Name it in a config by path:
\`"type": "./path/to/${name}/index.ts"\` (relative to that config file).

| file | what |
| --- | --- |
| \`index.ts\` | the plugin: \`definePlugin({ kind, type, contract, configSchema, create })\` |
${dataFile}| \`conformance.json\` | the plugin config the conformance kit runs with |
| \`conformance.test.ts\` | runs the kit: \`node --import tsx --test conformance.test.ts\` |

## Test it

${ownPackage ? OWN_PACKAGE : IN_STORE}

Config keys are the properties of \`ConfigSchema\` in \`index.ts\`; unknown keys are refused.
See the plugin authors' guide, \`plugins/README.md\` of cc-event-store, for the lifecycle,
the contracts, errors, logging and versioning.
`;
}

const OWN_PACKAGE = `\`\`\`sh
npm install   # links the cc-event-store checkout (a file: dependency) and installs tsx
npm test      # runs the conformance kit
\`\`\`

The store loads this plugin by path and finds \`cc-event-store\` through this folder's
\`node_modules\`, so run \`npm install\` before naming the plugin in a config. When the
store's checkout moves, point the \`file:\` dependency in \`package.json\` at its new place.`;

const IN_STORE =
  "In the store's folder: `node --import tsx --test <this folder>/conformance.test.ts`.";
