/**
 * Public API of the synthetic engine world's pure part (identity, layout, gate map and hash laws). Writing a
 * world (files, Parquet through DuckDB) is tools/world: `generateWorld`, `directoryGateSource`.
 */

export { GATE_MAP, type GateDefinition, gateById, gateIdOf, requiredGateIds } from './gate-map.ts';
export {
  compareAsciiLex,
  type GateDigestKind,
  GateFileMissingError,
  type GateFileSource,
  GateIndexInvalidError,
  gateDigest,
  gateDigestFor,
  indexEntries,
  indexedPaths,
  memberDigestMismatches,
  memberDigests,
  parsePassedFlag,
  type VerificationMethod,
} from './gates.ts';
export { formatUtcMicros, type WorldIdentity, worldIdentity } from './identity.ts';
export {
  outputDirectory,
  renderTemplate,
  WORLD_CATALOGUE,
  WORLD_OUTPUT_IDS,
  type WorldOutputId,
} from './layout.ts';
