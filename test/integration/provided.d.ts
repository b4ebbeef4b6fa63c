import type { StackState } from '../../local/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: { state: StackState; env: Record<string, string> };
  }
}
