// Checks DBML files with @dbml/core, the parser behind dbdiagram.io and dbdocs.
//
// Usage: node checkers/dbml.mjs <file.dbml>...
// Each file must parse (`Parser.parse(text, 'dbml')`) into a database with at least one table;
// the exit code is 1 when any file does not, 2 on a usage error.
import { Parser } from '@dbml/core';
import { readFile } from 'node:fs/promises';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node checkers/dbml.mjs <file.dbml>...');
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const text = await readFile(file, 'utf8');
  try {
    const database = Parser.parse(text, 'dbml');
    const tables = database.schemas.reduce((n, schema) => n + schema.tables.length, 0);
    const refs = database.schemas.reduce((n, schema) => n + schema.refs.length, 0);
    if (tables === 0) {
      failed += 1;
      console.log(`error ${file}: no table`);
    } else {
      console.log(`ok ${file}: ${tables} tables, ${refs} refs`);
    }
  } catch (error) {
    failed += 1;
    const diags = Array.isArray(error?.diags) ? error.diags : [];
    const messages = diags.length
      ? diags.map((d) => `${d.location?.start?.line ?? '?'}:${d.location?.start?.column ?? '?'} ${d.message}`)
      : [String(error?.message ?? error)];
    console.log(`error ${file}: ${messages.join('; ')}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
