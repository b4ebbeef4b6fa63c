import { isStateMachineArn, isValidName, stateMachineArn } from './arns.ts';
import { engineDefinition, statesByName, taskResources } from './definition.ts';
import { createEngine, type StateMachine } from './engine.ts';
import { ApiError } from './protocol.ts';

export type StateMachineType = 'STANDARD' | 'EXPRESS';

export interface StateMachineRecord {
  readonly arn: string;
  readonly name: string;
  readonly type: StateMachineType;
  readonly roleArn: string;
  /** The definition as given (DescribeStateMachine returns it unchanged). */
  readonly definition: string;
  readonly creationDate: number;
  readonly engine: StateMachine;
  readonly taskResources: ReadonlyMap<string, string>;
  readonly states: ReadonlyMap<string, Record<string, unknown>>;
}

export interface CreateStateMachineRequest {
  name: string;
  definition: string;
  roleArn: string;
  type?: StateMachineType;
}

/** The state machines of this server, by ARN. */
export class StateMachineRegistry {
  readonly #machines = new Map<string, StateMachineRecord>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** Idempotent for an identical request; a different definition/role/type under the same name is refused. */
  create(request: CreateStateMachineRequest): StateMachineRecord {
    if (!isValidName(request.name)) throw new ApiError('InvalidName', `Invalid Name: '${request.name}'`);
    const arn = stateMachineArn(this.region, this.accountId, request.name);
    const parsed = parseDefinition(request.definition);
    const type = request.type ?? 'STANDARD';
    const existing = this.#machines.get(arn);
    if (existing) {
      const same =
        JSON.stringify(parseDefinition(existing.definition)) === JSON.stringify(parsed) &&
        existing.roleArn === request.roleArn &&
        existing.type === type;
      if (same) return existing;
      throw new ApiError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    let engine: StateMachine;
    try {
      engine = createEngine(engineDefinition(parsed));
    } catch (error) {
      throw new ApiError('InvalidDefinition', error instanceof Error ? error.message : String(error));
    }
    const record: StateMachineRecord = {
      arn,
      name: request.name,
      type,
      roleArn: request.roleArn,
      definition: request.definition,
      creationDate: Date.now(),
      engine,
      taskResources: taskResources(parsed),
      states: statesByName(parsed),
    };
    this.#machines.set(arn, record);
    return record;
  }

  get(arn: string): StateMachineRecord {
    if (!isStateMachineArn(arn)) throw new ApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const record = this.#machines.get(arn);
    if (!record) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return record;
  }

  list(): StateMachineRecord[] {
    return [...this.#machines.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Running executions carry on (as on AWS, where deletion only stops new ones). */
  delete(arn: string): void {
    if (!isStateMachineArn(arn)) throw new ApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    this.#machines.delete(arn);
  }
}

function parseDefinition(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError('InvalidDefinition', `Invalid State Machine Definition: ${reason}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError('InvalidDefinition', 'Invalid State Machine Definition: not a JSON object');
  }
  return { ...parsed };
}
