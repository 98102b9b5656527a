#!/usr/bin/env node
// validate.js: run the Khronos glTF-Validator over GLB files.
// Prints one line per file; exit 0 when every file has 0 errors and 0
// warnings, 1 when some file has errors or warnings, 2 when some file is
// not glTF at all.
'use strict';
const fs = require('fs');
const path = require('path');
const validator = require(path.join(__dirname, '..', '..', 'node_modules', 'gltf-validator'));

async function main() {
  let rc = 0;
  for (const f of process.argv.slice(2)) {
    try {
      const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(f)),
        { uri: f, maxIssues: 0, writeTimestamp: false });
      const i = report.issues;
      const tris = report.info ? report.info.totalTriangleCount : 0;
      console.log(`${f}: errors=${i.numErrors} warnings=${i.numWarnings} infos=${i.numInfos} tris=${tris}`);
      if (i.numErrors > 0 || i.numWarnings > 0) {
        for (const m of i.messages.filter(m => m.severity <= 1).slice(0, 10))
          console.log(`  ${m.code} ${m.pointer || ''}: ${m.message}`);
        rc = Math.max(rc, 1);
      }
    } catch (e) {
      console.log(`${f}: not glTF: ${e}`);
      rc = 2;
    }
  }
  process.exit(rc);
}
main();
