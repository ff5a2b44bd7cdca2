"""Small controls drawn by the browser itself: the filter chips, each view's status line, the
address bar's filter query and the theme switch.

Why not Panel buttons and panes: in the browser, every change of a Bokeh layout property
(`visible`, `css_classes`, `disabled`, a row's children) re-lays out the whole page, which with
thirteen charts costs 0.4-1 s each (measured in Chromium), so a click that toggled thirteen
spinners and rebuilt the chips took tens of seconds to settle. A change of a property of one
of these components only redraws its own few elements (~15 ms). Texts are set with
`textContent`, never as HTML, so a value from the data or the page cannot inject markup; a
click comes back as a message the Python side checks before acting on it.
"""
from __future__ import annotations

from typing import Callable

import param
from panel.custom import JSComponent

_BUTTON_CSS = """
button { height: 28px; padding: 0 10px; border-radius: 14px; cursor: pointer; font: inherit;
         background: transparent; }
"""


class _MessageControl(JSComponent):
    """A JSComponent whose clicks arrive as `model.send_msg(...)` payloads, handed to `on_message`."""

    def __init__(self, on_message: Callable[[object], None], **params):
        super().__init__(**params)
        self._on_message = on_message

    def _handle_msg(self, data) -> None:
        self._on_message(data)


class ChipBar(_MessageControl):
    """The active filters as removable chips, grouped by the view (or the sidebar) that set them,
    each group with a count badge; 'Undo' for the last change and 'Clear all'."""

    groups = param.List(default=[], doc="[{'title', 'chips': [{'label', 'title', 'dimension', 'value'}]}]")
    can_undo = param.Boolean(default=False, doc="Whether 'Undo' has a change to take back")
    empty_text = param.String(default="", doc="What the bar says without a filter")
    updating = param.Boolean(default=False, doc="A change is being answered: the bar says the charts are updating")

    # The bar stays at the top of the page's scrolling area (sticky): a click far down the page still
    # shows its chips, and that the charts are updating.
    _stylesheets = [_BUTTON_CSS + """
:host { position: sticky !important; top: 0; z-index: 20; background: var(--panel-background-color, #fff);
        box-shadow: 0 2px 4px -2px rgba(0,0,0,.25); }
.chip-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; min-height: 36px;
            font-family: inherit; font-size: 0.95em; }
.chip-updating { display: none; align-items: center; gap: 6px; margin-left: auto; opacity: 0.85; }
.chip-updating.on { display: inline-flex; }
.chip-spinner { width: 12px; height: 12px; border-radius: 50%; border: 2px solid rgba(127,127,127,.35);
                border-top-color: #1f78b4; animation: chip-spin 0.8s linear infinite; }
@keyframes chip-spin { to { transform: rotate(360deg); } }
.chip-hint { opacity: 0.75; margin: 0 4px; }
.chip-group { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 4px; padding: 2px 4px 2px 8px;
              border: 1px dashed rgba(127,127,127,.5); border-radius: 16px; }
.chip-group-title { font-weight: 600; }
.chip-count { display: inline-block; min-width: 18px; padding: 0 5px; border-radius: 9px; text-align: center;
              background: #1f4e79; color: #fff; font-size: 0.8em; line-height: 18px; }
button.chip { border: 1px solid #1f4e79; color: inherit; }
button.chip:hover { background: #1f4e79; color: #fff; }
button.chip-clear, button.chip-undo { border: 1px solid #b02a37; color: #b02a37; }
button.chip-undo { border-color: #666; color: inherit; }
button.chip-clear:hover { background: #b02a37; color: #fff; }
button.chip-undo:hover { background: #666; color: #fff; }
"""]
    _esm = """
    export function render({ model }) {
      const bar = document.createElement("div");
      bar.className = "chip-bar";
      const element = (tag, cls, text) => {
        const e = document.createElement(tag);
        e.className = cls; e.textContent = text;
        return e;
      };
      const button = (text, title, cls, message) => {
        const b = element("button", cls, text);
        b.type = "button"; b.title = title;
        b.addEventListener("click", () => model.send_msg(message));
        return b;
      };
      const draw = () => {
        const items = [];
        if (model.groups.length === 0) {
          items.push(element("span", "chip-hint", model.empty_text));
        }
        for (const group of model.groups) {
          const box = element("span", "chip-group", "");
          box.dataset.group = group.title;
          box.append(element("span", "chip-group-title", group.title),
                     element("span", "chip-count", String(group.chips.length)));
          for (const chip of group.chips) {
            const wrap = element("span", "filter-chip", "");
            wrap.append(button(chip.label + "  \u2715", chip.title, "chip",
                               {remove: {dimension: chip.dimension, value: chip.value}}));
            box.append(wrap);
          }
          items.push(box);
        }
        if (model.can_undo) {
          items.push(button("Undo", "Take back the last filter change", "chip-undo", {undo: true}));
        }
        if (model.groups.length > 0) {
          items.push(button("Clear all", "Remove every filter", "chip-clear", {clear: true}));
        }
        bar.replaceChildren(...items, updating);
      };
      // "Updating the charts …" from a change's start (the click's own message) until its last data is sent
      const updating = element("span", "chip-updating", "");
      updating.append(element("span", "chip-spinner", ""), element("span", "", "Updating the charts …"));
      const busy = () => updating.classList.toggle("on", model.updating);
      model.on(["groups", "can_undo", "empty_text"], draw);
      model.on("updating", busy);
      draw();
      busy();
      return bar;
    }
    """


class UrlSync(_MessageControl):
    """Keeps the address bar's query equal to `query` (the filters): a new history entry when it
    changes, and back/forward (the browser's popstate) sent to the server as {'query': '?…'}.
    At page load the address is replaced, not pushed, with the checked query."""

    query = param.String(default="")

    _esm = """
    export function render({ model }) {
      const url = (query) => window.location.pathname + query + window.location.hash;
      if (window.location.search !== model.query) {
        window.history.replaceState(window.history.state, "", url(model.query));
      }
      const popped = () => model.send_msg({query: window.location.search});
      window.addEventListener("popstate", popped);
      model.on("remove", () => window.removeEventListener("popstate", popped));
      model.on("query", () => {
        if (window.location.search !== model.query) {
          window.history.pushState({}, "", url(model.query));
        }
      });
      return document.createElement("span");
    }
    """


class ThemeSwitch(_MessageControl):
    """Light/dark, live (see theme.py): the page's own CSS changes in the browser at once, the address
    keeps `?theme=dark` for a reload or a copied link, and `{'dark': bool}` asks the server for the
    figures' colours. Nothing reloads: the session, its undo history and the reader's place stay."""

    dark = param.Boolean(default=False, doc="Whether the page is dark (the button offers the other theme)")

    def _handle_msg(self, data) -> None:
        if isinstance(data, dict) and isinstance(data.get("dark"), bool):
            self.dark = data["dark"]
            self._on_message(data["dark"])

    _stylesheets = [_BUTTON_CSS + """
button { border: 1px solid rgba(255,255,255,.7); color: #fff; }
button:hover { background: rgba(255,255,255,.15); }
"""]
    _esm = """
    // Panel's theme stylesheets in the page's head, by kind: ".../theme/default.css", ".../bootstrap_dark.css"
    const SHEET = /\\/theme\\/(bootstrap_)?(default|dark)\\.css/;

    function pageTheme(dark) {
      const wanted = dark ? "dark" : "default";
      const sheets = [...document.querySelectorAll('link[rel="stylesheet"]')].filter((l) => SHEET.test(l.href));
      for (const kind of ["", "bootstrap_"]) {
        const mine = sheets.filter((l) => l.href.match(SHEET)[1] === (kind || undefined));
        if (!mine.length) continue;
        let keep = mine.find((l) => l.href.match(SHEET)[2] === wanted);
        if (!keep) {  // the other theme's sheet, next to this one; this one goes once it has loaded (no flash)
          keep = document.createElement("link");
          keep.rel = "stylesheet";
          keep.href = mine[0].href.replace(/(default|dark)\\.css/, wanted + ".css");
          mine[mine.length - 1].after(keep);
        }
        const drop = () => { if (keep.isConnected) mine.filter((l) => l !== keep).forEach((l) => l.remove()); };
        if (keep.sheet) drop(); else keep.addEventListener("load", drop, { once: true });
      }
      const root = document.documentElement;
      root.setAttribute("data-bs-theme", dark ? "dark" : "light");
      root.style.backgroundColor = dark ? "#121212" : "#ffffff";  // what Panel's page gives each theme
      const bar = document.getElementById("header");
      if (bar) { bar.classList.toggle("navbar-dark", dark); bar.classList.toggle("navbar-light", !dark); }
    }

    export function render({ model }) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "theme-switch";
      let dark = model.dark;
      const label = () => {
        b.textContent = dark ? "\u2600 Light" : "\u263e Dark";
        b.title = dark ? "Switch to the light theme" : "Switch to the dark theme";
      };
      const show = (value) => { dark = value; pageTheme(dark); label(); };
      label();
      model.on("dark", () => { if (model.dark !== dark) show(model.dark); });
      b.addEventListener("click", () => {
        show(!dark);
        const url = new URL(window.location.href);
        if (dark) { url.searchParams.set("theme", "dark"); } else { url.searchParams.delete("theme"); }
        window.history.replaceState(window.history.state, "", url.toString());  // no history entry
        model.send_msg({dark: dark});
      });
      return b;
    }
    """


# The status line's elements and behaviour, shared by ViewStatus and ViewHeader's ESM.
STATUS_JS = """
function statusLine(model) {
      const line = document.createElement("div");
      line.className = "view-status";
      const summary = document.createElement("div");
      summary.className = "view-summary";
      const text = document.createElement("div");
      summary.append(text);
      const spinner = document.createElement("span");
      spinner.className = "view-spinner";
      spinner.title = "Updating";
      const reset = document.createElement("button");
      reset.type = "button"; reset.className = "view-reset"; reset.textContent = "Reset";
      reset.title = "Clear the selection made in this view";
      reset.addEventListener("click", () => model.send_msg({reset: true}));
      const button = (name, label, title) => {
        const b = document.createElement("button");
        b.type = "button"; b.className = `view-${name}`; b.textContent = label; b.title = title;
        b.addEventListener("click", () => model.send_msg({[name]: true}));
        return b;
      };
      const cancel = button("cancel", "Cancel", "Stop this view's query in the database");
      const retry = button("retry", "Retry", "Run this view's query again");
      const elapsed = document.createElement("span");
      elapsed.className = "view-elapsed";
      let started = null, ticker = null;
      const tick = () => {  // shown from 2 s on: a long query says how long it has run
        const s = Math.floor((Date.now() - started) / 1000);
        elapsed.textContent = s >= 2 ? `${s} s` : "";
      };
      line.append(summary, spinner, elapsed, cancel, retry, reset);
      const draw = () => {  // the elements stay; only their text, class and visibility change
        text.textContent = model.summary;
        line.classList.toggle("view-updating", model.updating);
        if (model.updating && ticker === null) {
          started = Date.now(); tick(); ticker = setInterval(tick, 1000);
        } else if (!model.updating && ticker !== null) {
          clearInterval(ticker); ticker = null; elapsed.textContent = "";
        }
        cancel.hidden = !model.updating || !model.cancellable;
        retry.hidden = !model.cancelled || model.updating;
        reset.hidden = !model.resettable;
      };
      model.on(["summary", "updating", "cancellable", "resettable", "cancelled"], draw);
      model.on("remove", () => ticker !== null && clearInterval(ticker));
      draw();
      return line;
}
"""


class ViewStatus(_MessageControl):
    """A view's status line: what it shows ('4,039 transactions'); while its query runs a spinner,
    the seconds it has taken (counted in the browser: no message per second) and 'Cancel' (unless
    the owner cannot cancel); 'Retry' after a cancel; and 'Reset' while the view holds a selection
    of its own."""

    summary = param.String(default="")
    updating = param.Boolean(default=False)
    cancellable = param.Boolean(default=True, doc="Offer 'Cancel' while updating")
    resettable = param.Boolean(default=False)
    cancelled = param.Boolean(default=False)

    _stylesheets = [_BUTTON_CSS + """
.view-status { display: flex; align-items: center; gap: 8px; min-height: 30px; opacity: 0.75;
               font-size: 0.85em; font-family: inherit; }
.view-summary { flex: 1 1 auto; }
.view-spinner { display: none; width: 12px; height: 12px; border: 2px solid #bbb; border-top-color: #1f4e79;
                border-radius: 50%; animation: spin 0.8s linear infinite; }
.view-updating .view-spinner { display: inline-block; }
@keyframes spin { to { transform: rotate(360deg); } }
button.view-reset, button.view-cancel, button.view-retry { border: 1px solid #999; color: inherit; font-size: 1.1em; }
button.view-reset:hover, button.view-cancel:hover, button.view-retry:hover { background: rgba(127,127,127,.2); }
.view-elapsed { font-variant-numeric: tabular-nums; }
"""]
    _esm = STATUS_JS + """
    export function render({ model }) { return statusLine(model); }
    """
