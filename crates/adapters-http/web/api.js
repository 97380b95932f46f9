// The API client: same origin, the HttpOnly `access_token` cookie for identity
// (the page never sees the token), errors as their problem `detail`.

/** An API failure, worded by the server's problem `detail`. */
export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; resolves to the JSON body, rejects with an ApiError. */
export async function api(method, path, { body, headers = {} } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json, application/problem+json', ...headers },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError('The server cannot be reached. Check the connection and try again.', 0, 'NETWORK');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const detail = json && typeof json.detail === 'string' && json.detail ? json.detail : null;
    const words = detail ?? (json && json.title) ?? 'The server refused the request without saying why.';
    throw new ApiError(words, response.status, json && json.code);
  }
  return json;
}

export const get = (path, options) => api('GET', path, options);
export const post = (path, body, options = {}) => api('POST', path, { ...options, body });
export const patch = (path, body, options = {}) => api('PATCH', path, { ...options, body });
export const del = (path, options) => api('DELETE', path, options);
