/** Step Functions helpers of the tests: the same paging and polling the local CLI uses. */
export { allHistory as historyOf, waitForExecution } from '../../local/lifecycle-runner.ts';
