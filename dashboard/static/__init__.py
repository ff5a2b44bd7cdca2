"""Files the browser needs that no CDN may supply: the plotly.js topojson outlines (see topojson/SOURCE.md).

Panel's server (`panel serve` and `pn.serve` alike) routes
`/components/<module>/<class>/_resources/<group>/<path>` to files listed in that class's
`_resources` relative to the module's directory (`panel.io.server.ComponentResourceHandler`),
so listing the files on `GeoAssets` is all it takes to serve them: no `--static-dirs` flag.
"""
from __future__ import annotations

from panel.io.resources import component_resource_path

TOPOJSON_FILES = ("topojson/usa_110m.json", "topojson/world_110m.json")


class GeoAssets:
    """Only the files listed here are served (the handler refuses anything else)."""

    _resources = {"topojson": list(TOPOJSON_FILES)}


def topojson_url() -> str:
    """The `topojsonURL` for a Plotly config: the folder plotly.js appends `usa_110m.json` to.

    Panel computes it like its own component resources: page-relative
    (`components/dashboard.static/GeoAssets/_resources/topojson/topojson/`), prefixed with
    `pn.state.rel_path` ('..' per extra path level of the app), so it resolves under
    `panel serve --prefix` and behind path-rewriting proxies as well.
    """
    file_url = component_resource_path(GeoAssets, "_resources/topojson", TOPOJSON_FILES[0])
    return file_url.rsplit("/", 1)[0] + "/"
