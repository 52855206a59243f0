import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../harness/index.js';

/**
 * Type-check one TypeScript source held in memory, as if it lived in test/src (so imports resolve
 * against the repo's node_modules). Returns the diagnostics as "line: message" strings.
 * Used to type objects read from YAML/JSON as object literals: TypeScript's excess-property check
 * then rejects unknown fields (`replica:`, `intervall:`), which the JSON schemas let through.
 */
export function typecheckSource(source: string): string[] {
  const file = path.join(repoRoot(), 'test', 'src', '__virtual_typecheck__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    path.resolve(name) === file
      ? ts.createSourceFile(name, source, lang, true)
      : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, sf).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
