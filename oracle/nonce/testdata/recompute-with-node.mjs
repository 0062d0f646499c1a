// Recomputes redaction.json's MACs and JSON with Node's crypto, the runtime
// the Oracle runs on, keyed as the Oracle keys them (the hex string). Not
// part of `go test`; run with: node recompute-with-node.mjs
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

const doc = JSON.parse(readFileSync(new URL('./redaction.json', import.meta.url)));
let bad = 0;
for (const c of doc.cases) {
  if (!c.valid) continue;
  const v = Number(c.redactedText.version.slice(1));
  const key = doc.fakeTestNonces[String(v)];
  const obj = {
    __brand: 'RedactedText',
    __mac: createHmac('sha256', key).update(c.original).digest('hex'),
    value: c.redactedText.value,
    originalLength: c.original.length,
    version: `v${v}`,
  };
  const same = JSON.stringify(obj) === c.json;
  if (!same) bad++;
  console.log(`${same ? 'ok  ' : 'DIFF'} ${c.name}`);
}
process.exit(bad ? 1 : 0);
