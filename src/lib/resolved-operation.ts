import type { OperationDefinitionNode } from 'graphql';

/**
 * The operation Apollo Server resolved for a request, or undefined when it resolved none (an
 * operation name the document does not define, or several operations and no name). Apollo's hook
 * types promise an operation from `didResolveOperation` on, but it is undefined then; every
 * `responseForOperation` hook here reads it through this function and lets such a request pass,
 * and Apollo answers it 400 `OPERATION_RESOLUTION_FAILURE` itself.
 */
export function resolvedOperation(rc: { readonly operation?: OperationDefinitionNode | undefined }): OperationDefinitionNode | undefined {
  return rc.operation;
}
