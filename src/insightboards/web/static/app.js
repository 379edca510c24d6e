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
const state = { api: null, search: "", label: null, archived: false, skip: 0, total: 0 };

function show(signedIn) {
  $("sign-in").hidden = signedIn;
  for (const id of ["boards", "reports", "sign-out"]) $(id).hidden = !signedIn;
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
    tr.append(
      cell(board.name),
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
      sort: "-dateUpdated",
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

async function signIn(token) {
  const api = new Api(token);
  await api.get("/dashboards", { take: 0 }); // refused here if the token is not good
  sessionStorage.setItem(TOKEN_KEY, token);
  state.api = api;
  state.skip = 0;
  show(true);
  await Promise.all([loadBoards(), loadLabels(), loadReports()]);
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.api = null;
  state.label = null;
  for (const id of ["rows", "labels", "report-list"]) $(id).replaceChildren();
  show(false);
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

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved).catch(signOut);
else show(false);
