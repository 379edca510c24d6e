// The public API, as the page calls it: every request carries the signed-in token in the
// Authorization header (never in a URL), and a refusal becomes an ApiError with the
// problem document's detail.

const PREFIX = "/results/api/v2";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async get(path, params = {}) {
    const query = new URLSearchParams(
      Object.entries(params).filter(([, value]) => value !== undefined && value !== ""),
    );
    const url = `${PREFIX}${path}${query.size ? `?${query}` : ""}`;
    const response = await fetch(url, {
      headers: { Authorization: `Bearer ${this.token}`, Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new ApiError(response.status, body.detail || `${response.status} ${response.statusText}`);
    }
    return body;
  }
}
