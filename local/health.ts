import { type KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { kinesisClient, s3Client } from '../lib/adapters/aws-clients.ts';
import type { PartName } from './stack-config.ts';

/** One probe per part: resolves to true when the part answers as it should, else a short reason. */

const TIMEOUT_MS = 1500;

async function httpAnswers(url: string, init?: RequestInit): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
}

function reason(error: unknown): string {
  const e = error as { code?: string; cause?: { code?: string }; name?: string; message?: string };
  return e.cause?.code ?? e.code ?? e.name ?? e.message ?? String(error);
}

export interface ProbeTargets {
  region: string;
  postgresAdminUrl: string;
  kinesis: string;
  s3: string;
  lambda: string;
  /** serverless-offline's HTTP server (HTTP API routes); it starts after the invoke endpoint. */
  http?: string;
  sfn: string;
  esm: string;
  edge: string;
}

export async function probe(part: PartName, t: ProbeTargets): Promise<true | string> {
  try {
    switch (part) {
      case 'postgres': {
        const client = new pg.Client({
          connectionString: t.postgresAdminUrl,
          connectionTimeoutMillis: TIMEOUT_MS,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('SELECT 1');
        } finally {
          await client.end().catch(() => undefined);
        }
        return true;
      }
      case 'kinesis': {
        const k: KinesisClient = kinesisClient({ region: t.region, kinesis: t.kinesis });
        try {
          await k.send(new ListStreamsCommand({ Limit: 1 }), {
            abortSignal: AbortSignal.timeout(TIMEOUT_MS),
          });
        } finally {
          k.destroy();
        }
        return true;
      }
      case 's3': {
        const s3 = s3Client({ region: t.region, s3: t.s3 });
        try {
          await s3.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(TIMEOUT_MS) });
        } finally {
          s3.destroy();
        }
        return true;
      }
      case 'lambda': {
        // Any well-formed answer (404 for an unknown function) shows the invoke endpoint is serving.
        const res = await httpAnswers(`${t.lambda}/2015-03-31/functions/__health__/invocations`, {
          method: 'POST',
          body: '{}',
        });
        if (!(res.status === 404 || res.ok)) return `invoke endpoint answered ${res.status}`;
        // The HTTP server comes up after the invoke endpoint; any answer (404 for an unknown route) will do.
        if (t.http) await httpAnswers(`${t.http}/__health__`);
        return true;
      }
      case 'step-functions': {
        const res = await httpAnswers(t.sfn, {
          method: 'POST',
          headers: {
            'x-amz-target': 'AWSStepFunctions.ListStateMachines',
            'content-type': 'application/x-amz-json-1.0',
          },
          body: '{}',
        });
        return res.ok ? true : `ListStateMachines answered ${res.status}`;
      }
      case 'esm-poller': {
        const res = await httpAnswers(`${t.esm}/health`);
        return res.ok ? true : `health answered ${res.status}`;
      }
      case 'edge': {
        const res = await httpAnswers(`${t.edge}/_edge/health`);
        return res.ok ? true : `health answered ${res.status}`;
      }
    }
  } catch (error) {
    return reason(error);
  }
}
