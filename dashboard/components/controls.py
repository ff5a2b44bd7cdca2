"""Small controls drawn by the browser itself: the filter chips and each view's status line.

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
    """One removable chip per active filter value, and 'Clear all' (or a hint when no filter is set)."""

    chips = param.List(default=[], doc="[{'label', 'title', 'dimension', 'value'}], in display order")
    empty_text = param.String(default="")

    _stylesheets = [_BUTTON_CSS + """
.chip-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; min-height: 36px;
            font-family: inherit; font-size: 0.95em; }
.chip-bar strong { margin: 0 4px; }
.chip-hint { color: #555; margin: 0 4px; }
button.chip { border: 1px solid #1f4e79; color: #1f4e79; }
button.chip:hover { background: #1f4e79; color: #fff; }
button.chip-clear { border: 1px solid #b02a37; color: #b02a37; }
button.chip-clear:hover { background: #b02a37; color: #fff; }
"""]
    _esm = """
    export function render({ model }) {
      const bar = document.createElement("div");
      bar.className = "chip-bar";
      const button = (text, title, cls, message) => {
        const b = document.createElement("button");
        b.type = "button"; b.className = cls; b.textContent = text; b.title = title;
        b.addEventListener("click", () => model.send_msg(message));
        return b;
      };
      const draw = () => {
        const items = [];
        if (model.chips.length === 0) {
          const hint = document.createElement("span");
          hint.className = "chip-hint"; hint.textContent = model.empty_text;
          items.push(hint);
        } else {
          const head = document.createElement("strong");
          head.textContent = "Filters:";
          items.push(head);
          for (const chip of model.chips) {
            const wrap = document.createElement("span");
            wrap.className = "filter-chip";
            wrap.append(button(chip.label + "  \\u2715", chip.title, "chip",
                               {remove: {dimension: chip.dimension, value: chip.value}}));
            items.push(wrap);
          }
          items.push(button("Clear all", "Remove every filter", "chip-clear", {clear: true}));
        }
        bar.replaceChildren(...items);
      };
      model.on("chips", draw);
      draw();
      return bar;
    }
    """


class ViewStatus(_MessageControl):
    """A view's status line: what it shows ('4,039 transactions'), a spinner while its query runs,
    and 'Reset' while the view holds a selection of its own."""

    summary = param.String(default="")
    updating = param.Boolean(default=False)
    resettable = param.Boolean(default=False)

    _stylesheets = [_BUTTON_CSS + """
.view-status { display: flex; align-items: center; gap: 8px; min-height: 30px; color: #666;
               font-size: 0.85em; font-family: inherit; }
.view-summary { flex: 1 1 auto; }
.view-spinner { display: none; width: 12px; height: 12px; border: 2px solid #bbb; border-top-color: #1f4e79;
                border-radius: 50%; animation: spin 0.8s linear infinite; }
.view-updating .view-spinner { display: inline-block; }
@keyframes spin { to { transform: rotate(360deg); } }
button.view-reset { border: 1px solid #999; color: #333; font-size: 1.1em; }
button.view-reset:hover { background: #eee; }
"""]
    _esm = """
    export function render({ model }) {
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
      line.append(summary, spinner, reset);
      const draw = () => {  // the elements stay; only their text, class and visibility change
        text.textContent = model.summary;
        line.classList.toggle("view-updating", model.updating);
        reset.hidden = !model.resettable;
      };
      model.on(["summary", "updating", "resettable"], draw);
      draw();
      return line;
    }
    """
