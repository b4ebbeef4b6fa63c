import { z } from 'zod';

/** Error codes the SDK turns into typed exceptions (`__type` of an AWS JSON 1.0 error body). */
export type ErrorCode =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'StateMachineDoesNotExist'
  | 'StateMachineAlreadyExists'
  | 'InvalidArn'
  | 'InvalidDefinition'
  | 'InvalidName'
  | 'InvalidExecutionInput'
  | 'InvalidToken'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'InternalFailure';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = code;
  }
}

const arn = z.string().min(1).max(2048);
const maxResults = z.number().int().min(0).max(1000).optional();
const nextToken = z.string().min(1).max(1024).optional();
const errorText = z.string().max(256).optional();
const causeText = z.string().max(32768).optional();

export const requestSchemas = {
  CreateStateMachine: z.object({
    name: z.string(),
    definition: z.string().min(1).max(1_048_576),
    roleArn: arn,
    type: z.enum(['STANDARD', 'EXPRESS']).optional(),
  }),
  DescribeStateMachine: z.object({ stateMachineArn: arn }),
  ListStateMachines: z.object({ maxResults, nextToken }),
  DeleteStateMachine: z.object({ stateMachineArn: arn }),
  StartExecution: z.object({
    stateMachineArn: arn,
    name: z.string().optional(),
    input: z.string().max(262_144).optional(),
    traceHeader: z.string().optional(),
  }),
  DescribeExecution: z.object({ executionArn: arn }),
  ListExecutions: z.object({
    stateMachineArn: arn,
    statusFilter: z
      .enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'])
      .optional(),
    maxResults,
    nextToken,
  }),
  GetExecutionHistory: z.object({
    executionArn: arn,
    maxResults,
    nextToken,
    reverseOrder: z.boolean().optional(),
    includeExecutionData: z.boolean().optional(),
  }),
  StopExecution: z.object({ executionArn: arn, error: errorText, cause: causeText }),
} as const;

export type Operation = keyof typeof requestSchemas;
export type RequestOf<O extends Operation> = z.infer<(typeof requestSchemas)[O]>;

export function isOperation(name: string): name is Operation {
  return Object.hasOwn(requestSchemas, name);
}

export function parseRequest<O extends Operation>(operation: O, body: unknown): RequestOf<O> {
  const parsed = requestSchemas[operation].safeParse(body);
  if (!parsed.success) {
    const detail = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
    throw new ApiError('ValidationException', `${operation}: ${detail.join('; ')}`);
  }
  return parsed.data as RequestOf<O>;
}

/** Epoch milliseconds → epoch seconds, the JSON protocol's timestamp format. */
export function toEpochSeconds(epochMs: number): number {
  return epochMs / 1000;
}
