#!/usr/bin/env node
// Refuses an unsupported Node.js before anything else loads: a dependency that needs Node 22 would
// otherwise fail somewhere deep (Promise.withResolvers, require of ES modules) with no hint.
const NODE_MAJOR_REQUIRED = 22;
const major = Number(process.versions.node.split('.')[0]);
if (major < NODE_MAJOR_REQUIRED) {
  process.stderr.write(
    `baton: Node.js ${NODE_MAJOR_REQUIRED} or later is needed; this is Node.js ${process.versions.node} (Node 20 reached end of life in April 2026). ` +
      "Install Node 24 LTS, or in this repository run `bash scripts/node.sh <command>`, which installs it from PyPI when the machine's node is older.\n",
  );
  process.exit(2);
}
await import('./main.js');
export {};
