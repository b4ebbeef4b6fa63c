import { engineRunReader } from '../../lib/adapters/oracle-dependencies.ts';
import { CheckRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { checkPack } from '../../lib/oracle-store/check.ts';
import { DEFAULT_CHECK_OUTPUT_IDS } from '../../lib/oracle-store/interface-pack.ts';
import { deps, env, logger, parseRequest } from './oracle-context.ts';

/** oracle-check: the checker's report (gates verified by their hash law); the outputs to sort travel on. */
export const handler = async (event: unknown) => {
  const request = parseRequest(CheckRequest, event);
  const given = request.output_ids;
  const outputIds = Array.isArray(given) ? given : [...DEFAULT_CHECK_OUTPUT_IDS];
  const store = engineRunReader(deps.s3, env.ORACLE_STORE_BUCKET, request.engine_run_prefix);
  const report = await checkPack(store, {
    scenarioId: request.scenario_id,
    strictSeal: request.strict_seal,
    outputIds,
  });
  logger.info('pack checked', { status: report.status, reason_codes: report.reason_codes });
  return {
    status: report.status,
    reason_codes: report.reason_codes,
    errors: report.errors,
    warnings: report.warnings,
    output_ids: outputIds,
    summary: `${report.status}: ${report.errors.concat(report.warnings).join('; ') || 'no issues'}`,
  };
};
