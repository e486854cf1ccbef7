/**
 * One exception type for every error the router answers with. Route code throws it; the
 * server's error handler renders it in the shape of the route family (`/v1` OpenAI-shaped,
 * everything else the management shape), so no route formats errors by hand.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, param: string | null = null, code = 'invalid_request') =>
  new HttpError(400, message, code, param);
export const unauthorized = (message: string, code = 'invalid_api_key') => new HttpError(401, message, code);
export const forbidden = (message: string, code = 'insufficient_scope') => new HttpError(403, message, code);
export const notFound = (message: string, code = 'not_found', param: string | null = null) =>
  new HttpError(404, message, code, param);
