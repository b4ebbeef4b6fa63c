import { LinkedEntitiesRequest, type LinkedEntitiesResponse } from '../contracts/identity-graph.ts';
import { describeIssues } from '../errors/platform-error.ts';
import type { IdentityGraphStore } from './ports.ts';

/**
 * "Entities linked to X within N hops", for the decision lane: the request parsed by zod (never throws for bad
 * input: INVALID_REQUEST), X must exist (ENTITY_NOT_FOUND), the walk is bounded by `max_hops` and `limit`.
 */
export async function linkedEntitiesQuery(
  store: IdentityGraphStore,
  input: unknown,
): Promise<LinkedEntitiesResponse> {
  const parsed = LinkedEntitiesRequest.safeParse(input);
  if (!parsed.success) {
    const requestId = (input as { request_id?: unknown } | null)?.request_id;
    return {
      request_id: typeof requestId === 'string' ? requestId : '',
      status: 'INVALID_REQUEST',
      linked: [],
      truncated: false,
      detail: describeIssues(parsed.error.issues).slice(0, 512),
    };
  }
  const request = parsed.data;
  const root = await store.readEntity(request.entity_id);
  const head = { request_id: request.request_id, entity_id: request.entity_id, max_hops: request.max_hops };
  if (!root) return { ...head, status: 'ENTITY_NOT_FOUND', linked: [], truncated: false };
  // One more than asked tells whether the answer was cut.
  const found = await store.linkedEntities(request.entity_id, request.max_hops, request.limit + 1);
  return {
    ...head,
    status: 'READY',
    entity_type: root.entity_type,
    linked: found.slice(0, request.limit),
    truncated: found.length > request.limit,
  };
}
