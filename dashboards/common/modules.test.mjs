// Every named import of the pages' modules is exported by the module it names: the browser would
// refuse to run a page whose imports do not link, and no other test loads the DOM-side modules.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*'(\.{1,2}\/[^']+)';/gm;
const EXPORT = /^export\s+(?:async\s+)?(?:function|class|const|let)\s+([A-Za-z_$][\w$]*)/gm;

function modules() {
  return ['common', 'wall', 'console'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((name) => name.endsWith('.js'))
      .map((name) => join(root, dir, name)),
  );
}

test('named imports link', () => {
  const exported = new Map(modules().map((file) => [file, new Set([...readFileSync(file, 'utf8').matchAll(EXPORT)].map((m) => m[1]))]));
  let checked = 0;
  for (const file of exported.keys()) {
    for (const [, names, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), spec);
      assert.ok(exported.has(target), `${relative(root, file)} imports ${spec}, which does not exist`);
      for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) {
        assert.ok(exported.get(target).has(name), `${relative(root, file)} imports ${name} from ${spec}, which does not export it`);
        checked += 1;
      }
    }
  }
  assert.ok(checked > 50, `only ${checked} imports found`);
});
