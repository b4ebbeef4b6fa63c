// ARN and name rules of Step Functions (names: 1–80 chars, no whitespace, brackets, wildcards, punctuation or control chars).
const FORBIDDEN_NAME_CHARACTERS = new Set('<>{}[]?*"#%\\^|~`$&,;:/');

export function isValidName(name: string): boolean {
  if (name.length < 1 || name.length > 80) return false;
  for (const character of name) {
    const code = character.codePointAt(0) ?? 0;
    const isControl = code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    if (isControl || /\s/u.test(character) || FORBIDDEN_NAME_CHARACTERS.has(character)) return false;
  }
  return true;
}

export function stateMachineArn(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
}

/** STANDARD: execution:<sm>:<name>; EXPRESS: express:<sm>:<name>:<id> (names may repeat there). */
export function executionArn(
  stateMachine: { arn: string; name: string; type: 'STANDARD' | 'EXPRESS' },
  executionName: string,
  expressId: string,
): string {
  const prefix = stateMachine.arn.slice(
    0,
    stateMachine.arn.length - `stateMachine:${stateMachine.name}`.length,
  );
  return stateMachine.type === 'EXPRESS'
    ? `${prefix}express:${stateMachine.name}:${executionName}:${expressId}`
    : `${prefix}execution:${stateMachine.name}:${executionName}`;
}

const STATE_MACHINE_ARN = /^arn:aws[\w-]*:states:[^:]+:[^:]+:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[\w-]*:states:[^:]+:[^:]+:(execution:[^:]+:[^:]+|express:[^:]+:[^:]+:[^:]+)$/;

export function isStateMachineArn(arn: string): boolean {
  return STATE_MACHINE_ARN.test(arn);
}

export function isExecutionArn(arn: string): boolean {
  return EXECUTION_ARN.test(arn);
}

/** `arn:aws:lambda:<region>:<acct>:function:<name>[:<qualifier>]` or a bare name → the bare name. */
export function lambdaFunctionName(nameOrArn: string): string {
  const match = /^arn:aws[\w-]*:lambda:[^:]+:[^:]+:function:([^:]+)(?::[^:]+)?$/.exec(nameOrArn);
  return match?.[1] ?? nameOrArn;
}

export function isLambdaFunctionResource(resource: string): boolean {
  return resource.startsWith('arn:') ? /^arn:aws[\w-]*:lambda:[^:]+:[^:]+:function:/.test(resource) : true;
}
