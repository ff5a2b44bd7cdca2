"""Browser-side: a Plotly plot is relaid out only when its size changed; a hierarchy click does not zoom.

Panel's Plotly view (panel/models/plotly.ts, `resize_layout`) calls `Plotly.relayout(width,
height)` after every layout pass and style redraw of the page, even when the plot's size is the
same; a data update re-lays out the page's cards, so each of the seven Plotly figures paid one
full relayout more per click (the scatter matrix ~160 ms). This patches the view class once per
page to skip that call when the plot already has that size (bench/README.md, "Session 9").
A data update (`Plotly.react`) also carries the plot's current size: the layout Python sends has
no width, so react re-sized the plot to its container and Panel's `Plots.resize` afterwards
asked for one more relayout (`autosize`), and the resize pass another; with the size in the
layout, react draws once at the final size and both find nothing to do.
A click on a sunburst or treemap sector zooms Plotly into it (an animated transition, then the
filter's highlight redraws it zoomed out again): here a click only filters, as every other
view's does, and Plotly's `plotly_click` still reaches Panel.
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
  const layoutData = View.prototype._layout_data;
  // the size Panel's resize_layout gives the plot
  const size = (view) => [Math.min(view.model.width || view.el.clientWidth, view.model.max_width || Infinity),
                          Math.min(view.model.height || view.el.clientHeight, view.model.max_height || Infinity)];
  View.prototype.__sizeGuard = true;
  View.prototype.resize_layout = function () {
    const full = this.container && this.container._fullLayout;
    if (this._rendered && full) {
      const [width, height] = size(this);
      if (full.width === width && full.height === height) return;
    }
    resize.call(this);
  };
  const install = View.prototype._install_callbacks;
  if (install) {  // a click on a sunburst or treemap sector filters: Plotly's click event stays, its zoom goes
    View.prototype._install_callbacks = function () {
      install.call(this);
      const gd = this.container;
      for (const kind of ["sunburst", "treemap"]) {
        gd.on(`plotly_${kind}click`, (data) => { gd.emit("plotly_click", data); return false; });
      }
    };
  }
  if (layoutData) {
    View.prototype._layout_data = function () {
      const layout = layoutData.call(this);
      if (this._plotInitialized && this._rendered) {
        const [width, height] = size(this);
        if (layout.width == null && width > 0) layout.width = width;
        if (layout.height == null && height > 0) layout.height = height;
      }
      return layout;
    };
  }
  return true;
})();
"""
