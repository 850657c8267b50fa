/* Charts drawn for the width they get.
 *
 * A figure built by dash_app/figures carries, in layout.meta, a "compact" layout (relayout updates
 * for a container narrower than meta.narrow_px: wrapped labels, the legend below the chart, smaller
 * type) and the "wide" values of the same attributes. This switches a chart between them whenever
 * it is drawn (first draw, a new figure from a callback, a resize of the window): a phone gets a
 * chart drawn for its width, a desktop the chart as designed. Local file, no network.
 */
(function () {
  "use strict";

  function fit(gd) {
    var layout = gd.layout;
    var meta = layout && layout.meta;
    if (!meta || !meta.compact || !meta.wide || !window.Plotly) {
      return;
    }
    var width = gd.clientWidth || (gd.parentElement && gd.parentElement.clientWidth) || 0;
    if (!width) {
      return;
    }
    var mode = width < (meta.narrow_px || 600) ? "compact" : "wide";
    if (gd._spLayout === layout && gd._spMode === mode) {
      return; // already drawn this way (a relayout ends with another afterplot: no loop)
    }
    if (gd._spLayout !== layout && mode === "wide") {
      gd._spLayout = layout; // a new figure is drawn wide as it comes
      gd._spMode = mode;
      return;
    }
    gd._spLayout = layout;
    gd._spMode = mode;
    window.Plotly.relayout(gd, meta[mode]);
  }

  function hook(gd) {
    if (gd._spHooked || typeof gd.on !== "function") {
      return;
    }
    gd._spHooked = true;
    gd.on("plotly_afterplot", function () { fit(gd); });
    fit(gd);
  }

  function scan() {
    var plots = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < plots.length; i++) {
      hook(plots[i]);
    }
  }

  function start() {
    new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
    window.addEventListener("resize", function () {
      var plots = document.querySelectorAll(".js-plotly-plot");
      for (var i = 0; i < plots.length; i++) {
        fit(plots[i]);
      }
    });
    scan();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
