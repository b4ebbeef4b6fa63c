import { pythonIsoformat } from '../contracts/python-format.ts';
import { controlRecordText, ReadySignal, RunFactsView, readyControlRecord } from '../contracts/ready.ts';
import type { RunLease } from './authority.ts';
import type { ScenarioRunnerPorts } from './ports.ts';
import { ScenarioRunnerError } from './reason-codes.ts';
import { buildReadySignal } from './run-facts.ts';
import { type RunLedger, without } from './run-ledger.ts';

/**
 * READY publication (control-ingress.md §3.6): the write-once `ready_signal`, then one record on the control bus.
 * A publish failure only records READY_PUBLISH_FAILED; the run stays READY and a re-submit publishes again
 * (same message_id, so consumers deduplicate).
 */

export interface PublicationResult {
  message_id: string;
  published: boolean;
}

export async function publishReady(
  ports: ScenarioRunnerPorts,
  ledger: RunLedger,
  lease: RunLease,
  facts: RunFactsView,
  planHash: string,
): Promise<PublicationResult> {
  const fresh = buildReadySignal(facts, ledger.paths.factsView, planHash, pythonIsoformat(ports.clock.now()));
  await lease.ensure();
  const written = await ledger.writeOnce(ledger.paths.readySignal, fresh, (v) =>
    without(v, 'emitted_at_utc'),
  );
  if (written.outcome === 'different')
    throw new ScenarioRunnerError('READY_SIGNAL_DRIFT', `${ledger.paths.readySignal} holds another READY`);
  const ready = written.outcome === 'created' ? fresh : storedReady(written.stored, ledger.paths.readySignal);

  const record = readyControlRecord(ready, pythonIsoformat(ports.clock.now()));
  try {
    const { offset } = await ports.bus.publish({
      stream_record: controlRecordText(record),
      partition_key: record.partition_key,
      message_id: record.message_id,
    });
    await ledger.record('READY_PUBLISHED', {
      message_id: ready.message_id,
      ...(offset === undefined ? {} : { offset }),
    });
    return { message_id: ready.message_id, published: true };
  } catch (error) {
    await ledger.record('READY_PUBLISH_FAILED', {
      message_id: ready.message_id,
      error: error instanceof Error ? error.message : String(error),
    });
    return { message_id: ready.message_id, published: false };
  }
}

function storedReady(value: unknown, key: string): ReadySignal {
  const parsed = ReadySignal.safeParse(value);
  if (!parsed.success) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', key);
  return parsed.data;
}

/** The stored facts view, for a READY run whose publication did not finish. */
export async function readFactsView(ledger: RunLedger): Promise<RunFactsView> {
  const parsed = RunFactsView.safeParse(await ledger.readJson(ledger.paths.factsView));
  if (!parsed.success) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', ledger.paths.factsView);
  return parsed.data;
}
