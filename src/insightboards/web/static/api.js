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

  // The change feed as Server-Sent Events, read from fetch's stream (a browser's
  // EventSource cannot send the Authorization header): calls `onChange` with each change
  // and `onCursor` with each cursor the stream passes; resolves when the stream ends.
  async follow({ after, onChange, onCursor, signal }) {
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream" };
    if (after) headers["Last-Event-ID"] = after;
    const response = await fetch(`${PREFIX}/dashboards/changes`, { headers, signal });
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let data = null;
        for (const line of frame.split("\n")) {
          if (line.startsWith("id:")) onCursor(line.slice(3).trim());
          else if (line.startsWith("data:")) data = line.slice(5).trim();
        }
        if (data) onChange(JSON.parse(data));
      }
    }
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
