/** What the proxy hands back to the `/v1` routes: the backends' one result type. */
export type { AttemptFailure, AttemptFailureKind, InferenceResult } from '../history/types.js';
export type { TokenUsage } from '../transport/usage.js';
