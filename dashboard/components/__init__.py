"""The dashboard's views, each a `pn.viewable.Viewer` that also renders alone in a notebook cell."""
from .filters import FilterChips, FilterSidebar
from .merchants import MerchantSunburst, MerchantTreemap
from .time import HourlyChannelArea, TimeHeatmap

__all__ = ["FilterChips", "FilterSidebar", "TimeHeatmap", "HourlyChannelArea", "MerchantSunburst",
           "MerchantTreemap"]
