export {
  type EphemeralStack as TestStack,
  ephemeralStackEnv as testStackEnv,
  startEphemeralStack as startTestStack,
} from '../../local/ephemeral-stack.ts';
