"""The box a view shows instead of its figure: why there is nothing to draw, or why it failed, and
at most one way out (a button). Drawn by the browser over the figure (see ViewMessage)."""
from __future__ import annotations

from typing import Callable

import param
from panel.custom import JSComponent


class ViewMessage(JSComponent):
    """Why a view shows no figure ('Cannot load this view.', 'No data for this selection.'), drawn
    as an opaque box over the figure rather than by hiding it: its host is zero pixels high, so
    showing or hiding it changes no Bokeh layout. Hiding the figure instead re-laid out the page
    twice per view, and an outage that turned thirteen views to errors took ~35 s to show.
    It may offer one way out (`action`: a button whose click calls `on_action`)."""

    kind = param.Selector(default="", objects=["", "danger", "warning"], doc="'' hides the box")
    title = param.String(default="", doc="The first, bold words")
    detail = param.String(default="", doc="What follows the title")
    action = param.String(default="", doc="The label of the box's button ('' for none)")
    cover = param.Integer(default=420, doc="Pixels of figure to cover at least (the box grows to its column)")

    def __init__(self, on_action: Callable[[], None] | None = None, **params):
        super().__init__(**params)
        self._on_action = on_action

    def _handle_msg(self, data) -> None:
        if data == {"action": True} and self.action and self._on_action is not None:  # checked, never trusted
            self._on_action()

    _stylesheets = ["""
:host { position: relative; overflow: visible !important; z-index: 5; }
.view-message { position: absolute; top: 0; left: 0; right: 0; background: var(--panel-surface-color, #fff); }
.view-message-box { margin: 10px; padding: 12px 16px; border-radius: 6px; border: 1px solid transparent;
                    font-family: inherit; }
.view-message-box.danger { background: #f8d7da; color: #842029; border-color: #f5c2c7; }
.view-message-box.warning { background: #fff3cd; color: #664d03; border-color: #ffecb5; }
.view-message-action { display: block; margin-top: 8px; height: 28px; padding: 0 12px; border-radius: 14px;
                       cursor: pointer; font: inherit; background: #fff; color: #664d03; border: 1px solid #664d03; }
.view-message-action:hover { background: #664d03; color: #fff; }
"""]
    _esm = """
    export function render({ model }) {
      const cover = document.createElement("div");
      cover.className = "view-message";
      const box = document.createElement("div");
      const title = document.createElement("strong");
      const detail = document.createElement("span");
      const action = document.createElement("button");
      action.type = "button"; action.className = "view-message-action";
      action.addEventListener("click", () => model.send_msg({action: true}));
      box.append(title, " ", detail, action);
      cover.append(box);
      const body = () => {  // the column holding this box and the figure (in its shadow root)
        const root = cover.getRootNode();
        return root && root.host && root.host.parentNode && root.host.parentNode.host;
      };
      let watched = null;
      const resized = new ResizeObserver(() => fit());
      const fit = () => {  // cover the whole figure, however tall it draws (now or later)
        const column = body();
        if (column && column !== watched) { resized.observe(column); watched = column; }
        cover.style.height = `${Math.max(model.cover, column ? column.clientHeight : 0)}px`;
      };
      model.on("remove", () => resized.disconnect());
      const draw = () => {
        cover.style.display = model.kind ? "block" : "none";
        fit();
        requestAnimationFrame(fit);  // at the first render the box is not in the page yet
        box.className = `view-message-box ${model.kind}`;
        title.textContent = model.title;
        detail.textContent = model.detail;
        action.textContent = model.action;
        action.style.display = model.action ? "block" : "none";
      };
      model.on(["kind", "title", "detail", "action", "cover"], draw);
      draw();
      return cover;
    }
    """

    def say(self, title: str, detail: str, kind: str = "warning", action: str = "") -> None:
        self.param.update(title=title, detail=detail, kind=kind, action=action)

    def failed(self, error: str, retrying: bool) -> None:
        """The error state: why the query failed, and whether the owner asks again by itself."""
        self.say("Cannot load this view.", f"{error.rstrip('.')}." + (" Trying again every few seconds."
                                                                         if retrying else ""), "danger")

    def clear(self) -> None:
        self.param.update(kind="", title="", detail="", action="")

    @property
    def shown(self) -> bool:
        return bool(self.kind)

    @property
    def text(self) -> str:
        return f"{self.title} {self.detail}".strip()
