// Writes the ModelMonitor CRD (src/services/k8s/crd.ts) to charts/sentinelml/crds/ (or the path given).
//   node scripts/generate-crd.ts [OUT.yaml]
// test/k8s/crd.test.ts fails when the committed file differs from this output.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { CRD_HEADER, modelMonitorCrd } from '../src/services/k8s/crd.ts';

export function renderCrdYaml(): string {
  return CRD_HEADER + stringify(modelMonitorCrd(), { lineWidth: 0 });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../charts/sentinelml/crds/modelmonitors.sentinelml.io.yaml', import.meta.url));
  writeFileSync(out, renderCrdYaml());
  process.stderr.write(`wrote ${out}\n`);
}
