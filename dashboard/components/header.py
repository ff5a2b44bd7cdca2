"""A view card's whole header as one browser-drawn component: title, its help, the status line
and the CSV button. One model instead of a row of five (a Markdown title, a tooltip icon, the
status line and a FileDownload, each with its own style sheets): a session of thirteen views
holds a few hundred models fewer, and nothing in it re-lays out the page when it changes."""
from __future__ import annotations

import param

from .controls import STATUS_JS, ViewStatus
from .plotly_resize import RESIZE_GUARD_JS
from .plotly_select import LIVE_SELECT_JS

NEAR_PX = 300  # a card this close to the screen counts as seen: its data is there as it scrolls in


# Whether the element `card_hops` shadow hosts above `el` (its card) is on the screen or within NEAR_PX.
# The observer's root is the card's scrolling ancestor (the template scrolls inside its main area):
# a margin on the viewport alone would be clipped away by that ancestor.
SIGHT_JS = f"const NEAR_PX = {NEAR_PX};\n" + """
function scrollingAncestor(node) {
  for (let n = node.parentNode; n; n = n instanceof ShadowRoot ? n.host : n.parentNode) {
    if (n instanceof Element && /(auto|scroll)/.test(getComputedStyle(n).overflowY)) return n;
  }
  return null;
}
function watchSight(model, el) {
  let observer = null;
  requestAnimationFrame(() => {  // attached by now: walk up to the card
    let node = el;
    for (let i = 0; i < model.card_hops; i++) {
      const host = node.getRootNode().host;
      if (!host) break;
      node = host;
    }
    observer = new IntersectionObserver((entries) => {
      const on = entries[entries.length - 1].isIntersecting;
      if (model.seen !== on) model.seen = on;
    }, {root: scrollingAncestor(node), rootMargin: `${NEAR_PX}px 0px`});
    observer.observe(node);
  });
  model.on("remove", () => observer && observer.disconnect());
}
"""


class SightedStatus(ViewStatus):
    """A status line that also tells the server whether its card is in sight (`seen`), so a
    served client can leave its card alone until it is."""

    seen = param.Boolean(default=True, doc="Whether the card is on the screen or near it (the browser "
                         "says so as the page scrolls)")
    card_hops = param.Integer(default=2, doc="Shadow hosts from this line up to its card (header: 2, "
                              "a line in a row of the card: 3)")

    _esm = STATUS_JS + SIGHT_JS + """
    export function render({ model }) { const line = statusLine(model); watchSight(model, line); return line; }
    """


class ViewHeader(SightedStatus):
    """Title, help ('?', its text on hover or focus) and 'CSV' on one row, the status line on its own
    row below (beside the title a half-width card at 1280 px cut both short). A click on CSV comes
    back as {'csv': True}; the owner answers by setting `csv` to {'n': a new number, 'text': …},
    which the browser saves as `csv_name`. Its `seen` lets a served view leave its figure alone
    until the card is in sight."""

    heading = param.String(default="", doc="The view's title")
    help = param.String(default="", doc="What the view shows (the '?' tooltip)")
    csv_name = param.String(default="data.csv", doc="The downloaded file's name")
    csv = param.Dict(default={}, doc="{'n', 'text'}: the CSV to save (a new n for each download)")
    _stylesheets = ViewStatus._stylesheets + ["""
.view-header { display: flex; flex-wrap: wrap; align-items: center; gap: 0 6px; min-width: 0; width: 100%; }
.view-header h4 { margin: 0 4px 0 8px; font-size: 1.1em; font-weight: 600; flex: 0 1 auto; min-width: 0; }
.view-help { display: inline-block; width: 18px; height: 18px; line-height: 18px; border-radius: 50%;
             border: 1px solid #999; text-align: center; font-size: 0.8em; cursor: help; flex: none; }
.view-header .view-status { flex: 1 0 100%; order: 4; min-width: 0; padding-left: 8px; min-height: 24px; }
.view-header .view-summary { min-width: 0; }
.view-header .view-summary div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
button.view-csv { border: 1px solid #999; color: inherit; flex: none; margin-left: auto; }
button.view-csv:hover { background: rgba(127,127,127,.2); }
"""]
    _esm = STATUS_JS + RESIZE_GUARD_JS + LIVE_SELECT_JS + SIGHT_JS + """
    export function render({ model }) {
      const row = document.createElement("div");
      row.className = "view-header";
      const title = document.createElement("h4");
      title.textContent = model.heading;
      title.title = model.heading;
      const help = document.createElement("span");
      help.className = "view-help"; help.textContent = "?"; help.tabIndex = 0;
      help.title = model.help; help.hidden = !model.help;
      const csv = document.createElement("button");
      csv.type = "button"; csv.className = "view-csv"; csv.textContent = "CSV";
      csv.title = "Download the data this view shows";
      csv.addEventListener("click", () => model.send_msg({csv: true}));
      model.on("csv", () => {
        if (typeof model.csv.text !== "string") return;
        const a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([model.csv.text], {type: "text/csv"}));
        a.download = model.csv_name;
        document.body.append(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      });
      row.append(title, help, statusLine(model), csv);
      watchSight(model, row);
      return row;
    }
    """
