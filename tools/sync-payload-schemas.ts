/**
 * Regenerates `payload-schemas.json`: the payload schema of every engine event type IG admits (control-ingress.md
 * §5.3 step 4: the §1.3 row schemas of schemas.5B.yaml / schemas.6B.yaml, `$ref`s to `$defs` inlined), so the
 * Lambda bundle needs no YAML parser.
 *
 *   npx tsx tools/sync-payload-schemas.ts [--from <engine-schemas dir>] [--check]
 *
 * Default source: test/fixtures/engine-reference/engine-schemas (a verbatim copy of ../shared/reference).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, 'lib/ingestion-gate/reference/payload-schemas.json');

/** event_type → [schema file, JSON pointer] (schema_policy_v0.yaml `payload_schema_ref`s). */
export const PAYLOAD_SCHEMA_REFS: Record<string, [string, string]> = {
  s2_event_stream_baseline_6B: ['schemas.6B.yaml', '/s2/properties/event_stream_baseline_6B'],
  s3_event_stream_with_fraud_6B: ['schemas.6B.yaml', '/s3/properties/event_stream_with_fraud_6B'],
  arrival_events_5B: ['schemas.5B.yaml', '/egress/s4_arrival_events_5B/items'],
  s1_arrival_entities_6B: ['schemas.6B.yaml', '/s1/properties/arrival_entities_6B'],
  s2_flow_anchor_baseline_6B: ['schemas.6B.yaml', '/s2/properties/flow_anchor_baseline_6B'],
  s3_flow_anchor_with_fraud_6B: ['schemas.6B.yaml', '/s3/properties/flow_anchor_with_fraud_6B'],
};

type Node = Record<string, unknown>;

function at(doc: Node, pointer: string): Node {
  let cur: unknown = doc;
  for (const part of pointer.split('/').slice(1)) cur = (cur as Node | undefined)?.[part];
  if (!cur || typeof cur !== 'object') throw new Error(`no schema at ${pointer}`);
  return cur as Node;
}

/** Inlines `$ref`s (`#/$defs/x` or `other.yaml#/$defs/x`, recursively); keeps the keys a row schema uses. */
function resolve(docs: (file: string) => Node, file: string, node: Node): Node {
  const out: Node = {};
  if (typeof node.$ref === 'string') {
    const [target = '', pointer = ''] = node.$ref.split('#');
    const targetFile = target === '' ? file : target;
    Object.assign(out, resolve(docs, targetFile, at(docs(targetFile), pointer)));
  }
  for (const key of ['type', 'pattern', 'minimum', 'maximum', 'enum', 'nullable', 'minLength', 'maxLength'])
    if (node[key] !== undefined) out[key] = node[key];
  if (node.properties) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties as Record<string, Node>).map(([k, v]) => [k, resolve(docs, file, v)]),
    );
    out.required = node.required ?? [];
    out.additionalProperties = node.additionalProperties ?? true;
  }
  return out;
}

export function renderPayloadSchemas(fromDir: string): string {
  const loaded = new Map<string, Node>();
  // Files are found by their `$id` (schemas.layer3.6B.yaml declares `$id: schemas.layer3.yaml`).
  const byId = new Map<string, string>();
  for (const name of fs.readdirSync(fromDir).filter((f) => f.endsWith('.yaml'))) {
    const id = /^\$id:\s*(\S+)/m.exec(fs.readFileSync(path.join(fromDir, name), 'utf8'))?.[1];
    byId.set(id ?? name, name);
  }
  const docs = (file: string): Node => {
    if (!loaded.has(file)) {
      const where = path.join(fromDir, byId.get(file) ?? path.basename(file));
      if (!fs.existsSync(where))
        throw new Error(`${file} (referenced by a payload schema) is not in ${fromDir}`);
      loaded.set(
        file,
        parse(fs.readFileSync(where, 'utf8'), { uniqueKeys: false, intAsBigInt: true }) as Node,
      );
    }
    return loaded.get(file) as Node;
  };
  const schemas: Record<string, Node> = {};
  for (const [eventType, [file, pointer]] of Object.entries(PAYLOAD_SCHEMA_REFS))
    schemas[eventType] = resolve(docs, file, at(docs(file), pointer));
  // Integers beyond 2^53 (uint64 bounds) are kept exact as decimal strings.
  const exact = (_key: string, v: unknown) =>
    typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v;
  return `${JSON.stringify(schemas, exact, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const fromIndex = args.indexOf('--from');
  const from =
    fromIndex >= 0
      ? path.resolve(args[fromIndex + 1] ?? '')
      : path.join(REPO, 'test/fixtures/engine-reference/engine-schemas');
  const rendered = renderPayloadSchemas(from);
  if (args.includes('--check')) {
    const same =
      fs.existsSync(OUT) &&
      JSON.stringify(JSON.parse(fs.readFileSync(OUT, 'utf8'))) === JSON.stringify(JSON.parse(rendered));
    console.log(
      same ? 'payload-schemas.json is up to date' : 'payload-schemas.json differs from the engine schemas',
    );
    process.exitCode = same ? 0 : 1;
  } else {
    fs.writeFileSync(OUT, rendered);
    console.log(`wrote ${path.relative(REPO, OUT)}`);
  }
}
