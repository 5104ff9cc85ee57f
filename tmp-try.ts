import { readFileSync, readdirSync } from 'node:fs';
import { parseTemplate, fillTemplate, requiredFields, buildUserPrompt, parseJsonReply } from './src/processors/templates/index.js';
import { parse } from 'yaml';
const dir = '/work/shared/fixtures/templates';
for (const f of readdirSync(dir)) {
  const p = parseTemplate(readFileSync(`${dir}/${f}`, 'utf8'));
  console.log(f, p.frontmatter ? p.frontmatter.length : 'nofm', p.fields.map(x => x.name + (x.expectsArray ? '[]' : '')).join(','), '| vars:', p.variables.join(','));
}
const p = parseTemplate(readFileSync(`${dir}/Session_de.md`, 'utf8'));
const values: Record<string, unknown> = {};
for (const fl of p.fields) values[fl.name] = `V(${fl.name}) "q" \\ back\nline`;
values.tags = ['a', 'b'];
const out = fillTemplate(p, { values, context: { cache_key: 'ck1', track: 'Main', url: 'https://x.y/s' }, text: 'TXT' });
console.log(out);
console.log(parse(out.split('---\n')[1]!));
for (const r of ['```json\n{"a": 1,}\n```', 'Sure! {"a": "x\ny", b: True, "c": [1,2,],} thanks', "{'a': 'it\\'s', 'b': None}", '{"a": "cut off', '{"a": 1, "b": [1, 2', '{"a": "C:\\path"}', 'no json', '[1,2]']) {
  try { console.log(JSON.stringify(r), '=>', JSON.stringify(parseJsonReply(r))); } catch (e) { console.log(JSON.stringify(r), 'ERR', (e as Error).message); }
}
