// Checks JSON Schemas (draft 2020-12) with Ajv in strict mode, and sample records against them.
//
// Usage: node checkers/json_schema.mjs <x.schema.json>...
// Each schema must compile with Ajv's 2020-12 build in strict mode (unknown keywords, formats and
// misplaced constraints are errors; union types such as ["string", "null"] are allowed). Ajv
// compiles a `$defs` entry only when something refers to it, so every definition is compiled
// explicitly. When `x.samples.json` exists beside `x.schema.json`, it is a list of
// {"def": <name in $defs>, "valid": <bool>, "instance": ...}: each instance is validated against
// `#/$defs/<def>` and must pass exactly when `valid` is true. Prints `ok <file>` or
// `error <file>: ...` per schema; the exit code is 1 when any schema or sample fails, 2 on a
// usage error.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node checkers/json_schema.mjs <x.schema.json>...');
  process.exit(2);
}

/// The problems of one schema and its samples; empty when all is well.
async function check(file) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  const id = 'urn:data-modeller:checked';
  // A JSON pointer token for a `$defs` key, URI-encoded for use in a fragment.
  const pointer = (name) =>
    `${id}#/$defs/${encodeURIComponent(String(name).replaceAll('~', '~0').replaceAll('/', '~1'))}`;
  const validators = new Map();
  try {
    const schema = JSON.parse(await readFile(file, 'utf8'));
    if (schema.$schema !== 'https://json-schema.org/draft/2020-12/schema') {
      return [`$schema is ${JSON.stringify(schema.$schema)}, expected draft 2020-12`];
    }
    ajv.addSchema({ ...schema, $id: id });
    ajv.getSchema(id);
    for (const name of Object.keys(schema.$defs ?? {})) {
      const validate = ajv.getSchema(pointer(name));
      if (!validate) return [`definition ${name} cannot be referenced`];
      validators.set(name, validate);
    }
  } catch (error) {
    return [String(error?.message ?? error)];
  }
  const samplesFile = file.replace(/\.schema\.json$/, '.samples.json');
  if (samplesFile === file || !existsSync(samplesFile)) return [];
  const problems = [];
  const samples = JSON.parse(await readFile(samplesFile, 'utf8'));
  for (const [i, sample] of samples.entries()) {
    const validate = validators.get(sample.def);
    if (!validate) {
      problems.push(`sample ${i}: no definition ${sample.def}`);
      continue;
    }
    const valid = validate(sample.instance);
    if (valid !== sample.valid) {
      const why = valid ? 'accepted, expected a rejection' : ajv.errorsText(validate.errors);
      problems.push(`sample ${i} (${sample.def}): ${why}: ${JSON.stringify(sample.instance)}`);
    }
  }
  return problems;
}

let failed = 0;
for (const file of files) {
  const problems = await check(file);
  if (problems.length === 0) {
    console.log(`ok ${file}`);
  } else {
    failed += 1;
    console.log(`error ${file}: ${problems.join('\n  ')}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
