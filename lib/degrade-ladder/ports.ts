import { PlatformError } from '../errors/platform-error.ts';
import type { Posture, Transition } from './ladder.ts';
import type { SignalReading } from './signals.ts';

/**
 * Ports of the Degrade Ladder core (downstream.md §3.1). The posture store holds one posture per scope (`GLOBAL`)
 * and an outbox of posture changes; adapter: Postgres (`dl_current_posture`, `dl_posture_outbox`). The signal source
 * reads what the ladder judges (projector health documents, the consumers' lag, the registry snapshot).
 */

/** `dl.posture_changed.v1`: written to the outbox in the posture's own transaction, on INITIAL and MODE_CHANGE. */
export interface PostureChanged {
  event_type: 'dl.posture_changed.v1';
  scope_key: string;
  transition: Exclude<Transition, 'NONE'>;
  from_mode: Posture['mode'] | null;
  posture: Posture;
}

export interface PostureStore {
  /** The scope's posture (undefined: none yet). */
  current(scopeKey: string): Promise<Posture | undefined>;
  /**
   * Stores the scope's posture (and the change event, when there is one) in one transaction; a posture whose seq is
   * not above the stored one is refused (`PostureSeqRegression`).
   */
  commit(scopeKey: string, posture: Posture, change: PostureChanged | undefined): Promise<void>;
}

export interface SignalSource {
  /** Every signal it can read, as its source found it (a signal it cannot read is left out: MISSING). */
  read(now: Date): Promise<SignalReading[]>;
}

export class PostureSeqRegression extends PlatformError<'POSTURE_SEQ_REGRESSION'> {
  constructor(scopeKey: string, stored: number, offered: number) {
    super(
      'POSTURE_SEQ_REGRESSION',
      `POSTURE_SEQ_REGRESSION: ${scopeKey} holds seq ${stored}; ${offered} is not above it`,
      { detail: `the posture of ${scopeKey} holds seq ${stored}; ${offered} is not above it` },
    );
  }
}
