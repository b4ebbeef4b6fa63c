import { kinesisClient, s3Client, sfnClient } from '../../lib/adapters/aws-clients.ts';
import type { StackState } from '../../local/stack.ts';

/** SDK clients pointed at a local cloud, built exactly as the product builds them. */
export function clientsFor(state: StackState) {
  const endpoints = {
    region: state.region,
    s3: state.endpoints.s3,
    kinesis: state.endpoints.kinesis,
    sfn: state.endpoints.sfn,
  };
  return { s3: s3Client(endpoints), kinesis: kinesisClient(endpoints), sfn: sfnClient(endpoints) };
}
