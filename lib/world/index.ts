/** Public API of the synthetic engine-world generator and the gate hash laws it shares. */

export { directoryGateSource } from './gate-files.ts';
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
export {
  type GenerateWorldOptions,
  generateWorld,
  WorldExistsError,
  type WorldProgress,
  type WorldSummary,
} from './generate.ts';
export { formatUtcMicros, type WorldIdentity, worldIdentity } from './identity.ts';
export {
  outputDirectory,
  renderTemplate,
  WORLD_CATALOGUE,
  WORLD_OUTPUT_IDS,
  type WorldOutputId,
} from './layout.ts';
