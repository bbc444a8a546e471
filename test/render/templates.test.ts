import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COMPILED, renderCompiledModule } from '../../tools/templates/build.ts';

test('the precompiled report templates are those of the .hbs files (run node tools/templates/build.ts after editing one)', () => {
  assert.equal(readFileSync(COMPILED, 'utf8'), renderCompiledModule());
});
