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

  /** `body`, when given, is sent as JSON. */
  post(path, body) {
    return this.#request('POST', path, body);
  }

  put(path, body) {
    return this.#request('PUT', path, body);
  }

  delete(path) {
    return this.#request('DELETE', path);
  }

  /** A non-JSON answer (such as a CSV export) as text, with its response headers. */
  async text(path, params = {}) {
    const query = new URLSearchParams(params).toString();
    const response = await this.#fetch('GET', query ? `${path}?${query}` : path, undefined, '*/*');
    if (!response.ok) await this.#refused(response);
    return { text: await response.text(), headers: response.headers };
  }

  async #fetch(method, path, body, accept = 'application/json') {
    const headers = { Authorization: `Bearer ${this.key}`, Accept: accept };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (error) {
      throw new ApiError(0, 'network', `the API cannot be reached (${error.message})`);
    }
  }

  async #refused(response) {
    const body = await response.json().catch(() => null);
    const error = body?.error ?? {};
    throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `HTTP ${response.status}`);
  }

  async #request(method, path, body) {
    const response = await this.#fetch(method, path, body);
    if (response.status === 204) {
      return null;
    }
    if (!response.ok) await this.#refused(response);
    return response.json();
  }
}
