"""Browser-side: a Plotly plot is relaid out only when its size changed.

Panel's Plotly view (panel/models/plotly.ts, `resize_layout`) calls `Plotly.relayout(width,
height)` after every layout pass and style redraw of the page, even when the plot's size is the
same; a data update re-lays out the page's cards, so each of the seven Plotly figures paid one
full relayout more per click (the scatter matrix ~160 ms). This patches the view class once per
page to skip that call when the plot already has that size (bench/README.md, "Session 9").
It runs with the first view header's module (every card has one), in a served page, a notebook
and a saved HTML file alike; on a Panel without that view or method it does nothing.
"""

RESIZE_GUARD_JS = """
(() => {
  const registry = window.Bokeh && window.Bokeh.Models && window.Bokeh.Models._known_models;
  const model = registry && registry.get("panel.models.plotly.PlotlyPlot");
  const View = model && model.prototype.default_view;
  if (!View || !View.prototype.resize_layout || View.prototype.__sizeGuard) return false;
  const resize = View.prototype.resize_layout;
  View.prototype.__sizeGuard = true;
  View.prototype.resize_layout = function () {
    const full = this.container && this.container._fullLayout;
    if (this._rendered && full) {
      const width = Math.min(this.model.width || this.el.clientWidth, this.model.max_width || Infinity);
      const height = Math.min(this.model.height || this.el.clientHeight, this.model.max_height || Infinity);
      if (full.width === width && full.height === height) return;
    }
    resize.call(this);
  };
  return true;
})();
"""
