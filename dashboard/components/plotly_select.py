"""Browser-side: a Plotly box or lasso reaches the server while it moves, not only on release.

Panel's Plotly view (panel/models/plotly.ts) forwards `plotly_selected` (the release) as its
`plotly_event` {type: "selected"}, which the pane sets as `selected_data`; it does not forward
`plotly_selecting` (the drag). This adds it, once per page, as the same event with `live: true` in
its data (PlotlyView._on_select hands both to brush.py), at most every LIVE_MS, with only the fields
a view reads (a Plotly point holds its whole trace). It also takes over `plotly_selected`: Plotly
emits it again when a data update re-applies a standing selection box (another view's brush moved
this one's data), and Panel would send that as a new brush; only a release after a drag is sent.
And a double-click, which in select mode Plotly reports only as a deselect (and whose DOM event its
drag layer swallows), is sent as Panel's double-click event (the view's reset). It runs with the view headers' module, like
plotly_resize.py; on a Panel or Bokeh without these pieces it does nothing (release only).
"""

LIVE_MS = 60  # the browser sends a brush's points at most this often while it moves

DOUBLE_CLICK_MS = 400  # two clicks this close are a double-click

LIVE_SELECT_JS = f"const LIVE_MS = {LIVE_MS}, DOUBLE_CLICK_MS = {DOUBLE_CLICK_MS};\n" + """
(() => {
  const registry = window.Bokeh && window.Bokeh.Models && window.Bokeh.Models._known_models;
  const model = registry && registry.get("panel.models.plotly.PlotlyPlot");
  const View = model && model.prototype.default_view;
  if (!View || !View.prototype._install_callbacks || View.prototype.__liveSelect) return false;
  let events = null;
  try { events = window.Bokeh.require("core/bokeh_events"); } catch (e) { return false; }
  class LiveSelected extends events.ModelEvent {
    constructor(data) { super(); this.data = data; }
    get event_values() { return {model: this.origin, data: this.data}; }
  }
  LiveSelected.prototype.event_name = "plotly_event";
  const install = View.prototype._install_callbacks;
  View.prototype.__liveSelect = true;
  View.prototype._install_callbacks = function () {
    install.call(this);
    const gd = this.container;
    if (typeof gd.removeAllListeners !== "function") return;
    gd.removeAllListeners("plotly_selected");  // Panel's: it also forwards the selections Plotly re-makes
    let timer = null, latest = null, dragging = false;
    const points = (e) => e.points.map((p) => ({curveNumber: p.curveNumber, pointNumber: p.pointNumber,
                                                customdata: p.customdata}));
    const send = (data) => this.model.trigger_event(new LiveSelected({type: "selected", data}));
    gd.on("plotly_selecting", (e) => {
      if (!e || !Array.isArray(e.points)) return;
      dragging = true;
      latest = {live: true, points: points(e)};
      if (timer === null) {
        timer = setTimeout(() => { timer = null; if (latest !== null) send(latest); latest = null; }, LIVE_MS);
      }
    });
    gd.on("plotly_selected", (e) => {  // a release; Plotly also emits it after a data update: not a brush
      clearTimeout(timer); timer = null; latest = null;
      if (!dragging) return;
      dragging = false;
      send({points: e && Array.isArray(e.points) ? points(e) : []});
    });
    // in select mode Plotly takes a double-click as "clear the selection": no plotly_doubleclick, and its drag
    // layer keeps the DOM's dblclick from firing. Two clicks this close are the view's reset, as elsewhere.
    let clicked = 0;
    gd.addEventListener("click", () => {
      const mode = gd._fullLayout && gd._fullLayout.dragmode;
      if (mode !== "select" && mode !== "lasso") return;  // other modes report their double-clicks
      const now = Date.now();
      if (now - clicked < DOUBLE_CLICK_MS) {
        clicked = 0;
        this.model.trigger_event(new LiveSelected({type: "doubleclick", data: null}));
      } else {
        clicked = now;
      }
    }, true);
  };
  return true;
})();
"""
