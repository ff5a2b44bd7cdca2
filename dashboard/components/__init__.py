"""The dashboard's views, each a `pn.viewable.Viewer` that also renders alone in a notebook cell.

    from dashboard.components import TimeHeatmap
    TimeHeatmap()                      # its own store on the default warehouse
    store = DataStore(url); TimeHeatmap(store) + GeoBubbleMap(store)   # two views cross-filtering
"""
from .affinity import AffinityMatrix
from .behavior import BehaviorScatter3D
from .credit import CreditScatterMatrix
from .credit_risk import CreditRiskBubble
from .drilldown import DetailTable
from .filters import FilterChips, FilterSidebar
from .geo import GeoBubbleMap, GeoMetricsHeatmap
from .controls import ThemeSwitch
from .merchants import MerchantSunburst, MerchantTreemap
from .permalink import Permalink
from .products import CrossSellNetwork
from .radar import EngagementRadar
from .seasonal import SeasonalLines
from .time import HourlyChannelArea, TimeHeatmap

__all__ = ["BehaviorScatter3D", "EngagementRadar", "TimeHeatmap", "HourlyChannelArea", "CrossSellNetwork",
           "AffinityMatrix", "MerchantSunburst", "MerchantTreemap", "CreditScatterMatrix", "CreditRiskBubble",
           "GeoBubbleMap", "GeoMetricsHeatmap", "SeasonalLines", "FilterChips", "FilterSidebar", "DetailTable", "Permalink",
           "ThemeSwitch"]
