// The authenticated REST client of the pages: `Authorization: Bearer <key>`, errors as ApiError with the API's stable code.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // 0: the API could not be reached
    this.code = code;
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  get(path, params = {}) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (one !== undefined && one !== null && one !== '') query.append(name, String(one));
      }
    }
    const qs = query.toString();
    return this.#request('GET', qs ? `${path}?${qs}` : path);
  }

  /** `payload`, when given, is sent as JSON. */
  post(path, payload) {
    return this.#request('POST', path, payload);
  }

  async #request(method, path, payload) {
    let response;
    const headers = { Authorization: `Bearer ${this.key}`, Accept: 'application/json' };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    try {
      response = await fetch(path, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (error) {
      throw new ApiError(0, 'network', `the API cannot be reached (${error.message})`);
    }
    if (response.status === 204) {
      return null;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = body?.error ?? {};
      throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `HTTP ${response.status}`);
    }
    return body;
  }
}
