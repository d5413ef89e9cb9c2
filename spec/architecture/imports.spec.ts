/**
 * The house rules of docs/architecture.md, read from the sources themselves: every import
 * (type-only ones and re-exports included) points down the layer map of eslint.config.js,
 * no module reaches itself through its imports, and no source file grows past 400 lines.
 * ESLint's zones say the same for value imports in an editor; this also sees `import type`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
// @ts-expect-error -- a plain JavaScript config without declarations
import { LAYERS } from '../../../eslint.config.js';

const ROOT = process.cwd();
const SOURCE_FOLDERS = ['lib', 'adapters', 'runners', 'migrations'];
const MAX_LINES = 400;

interface Layer {
  name: string;
  paths: string[];
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The project files a source imports or re-exports, as root-relative paths. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles
    .map((entry) => entry.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => relative(ROOT, resolve(ROOT, dirname(file), name)).replace(/\.js$/, '.ts'));
}

function layerOf(file: string): number {
  return (LAYERS as Layer[]).findIndex((layer) => layer.paths.some((path) => file === path || file.startsWith(`${path}/`)));
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('architecture', () => {
  const files = SOURCE_FOLDERS.flatMap(sourceFiles);
  const graph = new Map(files.map((file) => [file, importsOf(file)]));

  it('finds the sources and their imports', () => {
    expect(files.length).to.be.greaterThan(50);
    expect(graph.get('lib/store/store-facade.ts')).to.include('lib/foundation/errors.ts');
  });

  it('puts every source file in a layer', () => {
    expect(files.filter((file) => layerOf(file) < 0)).to.deep.equal([]);
  });

  it('imports only from the same layer or below, type-only imports included', () => {
    const backImports = [...graph].flatMap(([file, imports]) =>
      imports.filter((target) => layerOf(target) > layerOf(file)).map((target) => `${file} -> ${target}`),
    );
    expect(backImports).to.deep.equal([]);
  });

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph)).to.deep.equal([]);
  });

  it('keeps OpenTelemetry in lib/otel, which takes only the hook shapes and the like from foundation', () => {
    const packagesOf = (file: string) =>
      ts
        .preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true)
        .importedFiles.map((entry) => entry.fileName)
        .filter((name) => !name.startsWith('.'));
    const otelOutside = files.filter(
      (file) => !file.startsWith('lib/otel/') && packagesOf(file).some((name) => name.startsWith('@opentelemetry/')),
    );
    expect(otelOutside).to.deep.equal([]);
    const otelFiles = files.filter((file) => file.startsWith('lib/otel/'));
    expect(otelFiles).to.include('lib/otel/index.ts');
    const reached = otelFiles.flatMap((file) => (graph.get(file) ?? []).filter((target) => !/^lib\/(otel|foundation)\//.test(target)));
    expect(reached).to.deep.equal([]);
  });

  it(`keeps every source file under ${MAX_LINES} lines`, () => {
    const long = files
      .map((file) => ({ file, lines: readFileSync(join(ROOT, file), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines}`);
    expect(long).to.deep.equal([]);
  });
});
