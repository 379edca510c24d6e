// The page: sign-in with an API token (kept in sessionStorage: this tab only), then the
// boards list, searched by name and paged, through the list API's filter, sort and fields.

import { Api, ApiError } from "./api.js";

const TOKEN_KEY = "insightboards.token";
const PAGE_SIZE = 20;
// What the list shows, and no more.
const LIST_FIELDS = "id,name,tags{name},dateUpdated";

const $ = (id) => document.getElementById(id);
// Label chips: the most used labels, at most this many.
const LABEL_CHIPS = 20;
const state = {
  api: null, search: "", label: null, archived: false, sort: "-dateUpdated", skip: 0, total: 0,
  board: null, // the id of the board shown, if one is
  following: null, // the change feed's AbortController
};
// A stream that ended or failed is opened again after this long.
const RECONNECT_MS = 2000;

// What the page shows: "sign-in", "list" or "board".
function show(view) {
  $("sign-in").hidden = view !== "sign-in";
  $("sign-out").hidden = view === "sign-in";
  for (const id of ["boards", "reports"]) $(id).hidden = view !== "list";
  $("board").hidden = view !== "board";
}

// Boards, not reports (listed apart); archived ones only when asked for; a name search
// matches anywhere in the name, ignoring case, what is typed taken as literal text.
function listFilter() {
  const filter = { isReport: false };
  if (!state.archived) filter.archived = false;
  if (state.label) filter["tags.name"] = state.label;
  if (state.search) {
    const literal = state.search.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    filter.name = { $regex: literal, $options: "i" };
  }
  return JSON.stringify(filter);
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function render(page) {
  const rows = page.items.map((board) => {
    const tr = document.createElement("tr");
    const name = cell("");
    const link = document.createElement("a");
    link.href = `#/boards/${board.id}`;
    link.textContent = board.name;
    name.append(link);
    tr.append(
      name,
      cell((board.tags || []).map((tag) => tag.name).join(", ")),
      cell(new Date(board.dateUpdated).toLocaleString()),
    );
    return tr;
  });
  $("rows").replaceChildren(...rows);
  state.total = page.totalCount;
  const first = page.totalCount ? state.skip + 1 : 0;
  const last = state.skip + page.items.length;
  $("total").textContent =
    `${page.totalCount} board${page.totalCount === 1 ? "" : "s"}` +
    (page.totalCount ? `, showing ${first} to ${last}` : "");
  $("page").textContent = `Page ${Math.floor(state.skip / PAGE_SIZE) + 1}`;
  $("previous").disabled = state.skip === 0;
  $("next").disabled = last >= page.totalCount;
}

async function loadBoards() {
  $("list-error").textContent = "";
  try {
    const page = await state.api.get("/dashboards", {
      filter: listFilter(),
      sort: state.sort,
      fields: LIST_FIELDS,
      skip: state.skip,
      take: PAGE_SIZE,
    });
    render(page);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut();
    $("list-error").textContent = error.message;
  }
}

function chip(name, count) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "chip";
  button.textContent = `${name} (${count})`;
  button.setAttribute("aria-pressed", String(state.label === name));
  button.addEventListener("click", () => {
    state.label = state.label === name ? null : name;
    for (const other of $("labels").children) {
      other.setAttribute("aria-pressed", String(other === button && state.label !== null));
    }
    state.skip = 0;
    loadBoards();
  });
  return button;
}

async function loadLabels() {
  const usages = await state.api.get("/dashboards/tags/usages");
  const top = usages.items
    .slice()
    .sort((a, b) => b.dashboardsCount - a.dashboardsCount || a.tagName.localeCompare(b.tagName))
    .slice(0, LABEL_CHIPS);
  $("labels").replaceChildren(...top.map((usage) => chip(usage.tagName, usage.dashboardsCount)));
}

async function loadReports() {
  const reports = await state.api.get("/dashboards/reports");
  $("report-list").replaceChildren(
    ...reports.map((report) => {
      const item = document.createElement("li");
      item.textContent = report.name;
      return item;
    }),
  );
}

// A setting as the API gives it: {name, value, valueDisplayName, ...}.
function settingText(setting) {
  return `${setting.name}: ${setting.valueDisplayName || setting.value || ""}`;
}

function tile(item, columns) {
  const element = document.createElement("article");
  element.setAttribute("role", "listitem");
  if (item.type === "sectionHeader") {
    // A band across the whole board, at its row.
    element.className = "band";
    element.style.gridColumn = `1 / span ${columns}`;
    const header = document.createElement("h3");
    header.textContent = item.sectionHeader.header || "";
    const sub = document.createElement("p");
    sub.textContent = item.sectionHeader.subHeader || "";
    element.append(header, sub);
  } else {
    element.className = "tile";
    element.style.gridColumn = `${item.col + 1} / span ${item.sizeX}`;
    const title = document.createElement("h3");
    title.textContent = item.insightTitle || item.insightName || item.insightId;
    element.append(title);
    if (item.insightState) {
      const stateLine = document.createElement("p");
      stateLine.className = "state";
      stateLine.textContent = `State: ${item.insightState}`;
      element.append(stateLine);
    }
    const settings = document.createElement("ul");
    settings.replaceChildren(
      ...(item.settings || []).map((setting) => {
        const line = document.createElement("li");
        line.textContent = settingText(setting);
        return line;
      }),
    );
    element.append(settings);
  }
  element.style.gridRow = `${item.row + 1} / span ${item.sizeY}`;
  element.dataset.id = item.id;
  return element;
}

function renderBoard(board) {
  $("board-title").textContent = board.name;
  const labels = (board.tags || []).map((tag) => tag.name).join(", ");
  $("board-meta").textContent =
    `Version ${board.version}, updated ${new Date(board.dateUpdated).toLocaleString()}` +
    (labels ? `. Labels: ${labels}` : "") +
    `. You may ${board.currentUserAllowedActions.join(", ")}.`;
  const terms = [];
  for (const [heading, list] of [["Settings", board.settings], ["Parameters", board.parameters]]) {
    if (!list || !list.length) continue;
    const term = document.createElement("dt");
    term.textContent = heading;
    terms.push(term);
    for (const entry of list) {
      const value = document.createElement("dd");
      value.textContent = settingText(entry);
      terms.push(value);
    }
  }
  $("board-settings").replaceChildren(...terms);
  const items = [...(board.insights || []), ...(board.sectionHeaders || [])];
  // The board's width: the widest reach of its tiles, and at least 12 columns.
  const columns = Math.max(12, ...items.map((item) => item.col + item.sizeX));
  $("grid").style.setProperty("--columns", columns);
  const ordered = items.slice().sort((a, b) => a.row - b.row || a.col - b.col);
  $("grid").replaceChildren(...ordered.map((item) => tile(item, columns)));
}

async function openBoard(id) {
  state.board = id;
  show("board");
  $("board-error").textContent = "";
  $("board-title").textContent = "";
  $("grid").replaceChildren();
  try {
    renderBoard(await state.api.get(`/dashboards/${encodeURIComponent(id)}`));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut();
    $("board-error").textContent = error.message;
  }
}

// The address says what is shown: #/ the list, #/boards/<id> a board.
async function route() {
  if (!state.api) return;
  const match = location.hash.match(/^#\/boards\/([^/]+)$/);
  if (match) return openBoard(decodeURIComponent(match[1]));
  state.board = null;
  show("list");
}

// Someone changed a board: what is on screen is read again (the list and its label chips
// once for a burst of changes; the board shown, if it is the one that changed).
let refreshing;
function changed(change) {
  if (state.board === null) {
    clearTimeout(refreshing);
    refreshing = setTimeout(() => Promise.all([loadBoards(), loadLabels()]), 100);
  } else if (change.dashboardId === state.board) {
    openBoard(state.board);
  }
}

async function follow(api, controller) {
  let cursor = null;
  while (!controller.signal.aborted) {
    try {
      await api.follow({
        after: cursor,
        onChange: changed,
        onCursor: (id) => (cursor = id),
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) return signOut();
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

async function signIn(token) {
  const api = new Api(token);
  await api.get("/dashboards", { take: 0 }); // refused here if the token is not good
  sessionStorage.setItem(TOKEN_KEY, token);
  state.api = api;
  state.skip = 0;
  state.following = new AbortController();
  follow(api, state.following);
  await route();
  await Promise.all([loadBoards(), loadLabels(), loadReports()]);
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.following?.abort();
  state.following = null;
  state.api = null;
  state.label = null;
  for (const id of ["rows", "labels", "report-list", "grid"]) $(id).replaceChildren();
  show("sign-in");
  $("token").focus();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  const input = $("token");
  try {
    await signIn(input.value.trim());
    input.value = "";
  } catch (error) {
    $("sign-in-error").textContent =
      error instanceof ApiError && error.status === 401
        ? "That token is not known, or no longer valid."
        : error.message;
  }
});

let typing;
$("name-search").addEventListener("input", (event) => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    state.search = event.target.value.trim();
    state.skip = 0;
    loadBoards();
  }, 200);
});
$("search").addEventListener("submit", (event) => event.preventDefault());
$("sort").addEventListener("change", (event) => {
  state.sort = event.target.value;
  state.skip = 0;
  loadBoards();
});
$("include-archived").addEventListener("change", (event) => {
  state.archived = event.target.checked;
  state.skip = 0;
  loadBoards();
});
$("previous").addEventListener("click", () => {
  state.skip = Math.max(0, state.skip - PAGE_SIZE);
  loadBoards();
});
$("next").addEventListener("click", () => {
  state.skip += PAGE_SIZE;
  loadBoards();
});
$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved).catch(signOut);
else show("sign-in");
