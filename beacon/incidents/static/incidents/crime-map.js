/* The public crime map: published hexagons zoomed out, masked points zoomed in. */
(function () {
  "use strict";

  var BREAKS = [
    { min: 200, colour: "#08306b" },
    { min: 50, colour: "#2171b5" },
    { min: 10, colour: "#6baed6" },
    { min: 3, colour: "#c6dbef" }
  ];
  var SUPPRESSED = "#bdbdbd";

  function colourFor(count) {
    if (count === null || count === undefined) { return SUPPRESSED; }
    for (var i = 0; i < BREAKS.length; i += 1) {
      if (count >= BREAKS[i].min) { return BREAKS[i].colour; }
    }
    return SUPPRESSED;
  }

  function groupLabels() {
    var node = document.getElementById("crime-groups");
    return node ? JSON.parse(node.textContent) : {};
  }

  function legendControl(element) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "crime-legend");
      var title = document.createElement("strong");
      title.textContent = element.dataset.labelLegend || "Incidents";
      div.appendChild(title);
      var rows = BREAKS.slice().reverse().map(function (b, i, all) {
        var next = all[i + 1];
        return { colour: b.colour, text: next ? b.min + "–" + (next.min - 1) : b.min + "+" };
      });
      rows.unshift({ colour: SUPPRESSED, text: element.dataset.labelFewer || "fewer than 3" });
      rows.forEach(function (row) {
        var line = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = row.colour;
        line.appendChild(swatch);
        line.appendChild(document.createTextNode(" " + row.text));
        div.appendChild(line);
      });
      return div;
    };
    return control;
  }

  function popupFor(feature, labels, heading) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = heading + ": " + feature.properties.label;
    box.appendChild(title);
    var groups = feature.properties.groups || {};
    var list = document.createElement("ul");
    Object.keys(groups).forEach(function (code) {
      var item = document.createElement("li");
      item.textContent = (labels[code] || code) + ": " + groups[code].label;
      list.appendChild(item);
    });
    if (list.children.length) { box.appendChild(list); }
    return box;
  }

  // An H3 cell's resolution is the second hex digit of its 15-digit index.
  function resolutionOf(feature) {
    return parseInt(String(feature.properties.cell).charAt(1), 16);
  }

  function setup(element, map) {
    var form = document.getElementById("crime-filters");
    var status = document.getElementById("crime-map-status");
    var labels = groupLabels();
    var layer = null;
    var timer = null;
    var serial = 0;
    legendControl(element).addTo(map);

    function render(data) {
      if (layer) { map.removeLayer(layer); }
      if (data.layer === "hexagons") {
        // Coarser cells (sparse areas) first, so the finer cells are drawn over them.
        data.features.sort(function (a, b) { return resolutionOf(a) - resolutionOf(b); });
        layer = L.geoJSON(data, {
          style: function (f) {
            return { color: "#444", weight: 1, fillColor: colourFor(f.properties.count), fillOpacity: 0.65 };
          },
          onEachFeature: function (f, lyr) {
            lyr.bindTooltip(element.dataset.labelHexagons + ": " + f.properties.label);
          }
        });
      } else {
        layer = L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            var count = f.properties.count || 1;
            return L.circleMarker(latlng, {
              radius: Math.min(4 + Math.sqrt(count) * 2, 22), color: "#222", weight: 1,
              fillColor: colourFor(f.properties.count), fillOpacity: 0.85
            });
          },
          onEachFeature: function (f, lyr) {
            lyr.bindPopup(popupFor(f, labels, element.dataset.labelPoints));
          }
        });
      }
      layer.addTo(map);
      if (status) {
        status.textContent = data.features.length + " · " + data.from + " – " + data.to;
      }
    }

    function load() {
      var query = form ? new URLSearchParams(new FormData(form)) : new URLSearchParams();
      var b = map.getBounds();
      query.set("zoom", String(map.getZoom()));
      query.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (v) { return Math.max(-180, Math.min(180, v)).toFixed(5); }).join(","));
      serial += 1;
      var mine = serial;
      fetch(element.dataset.url + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== serial) { return; }
          if (data.detail) { if (status) { status.textContent = data.detail; } return; }
          render(data);
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 250);
    }

    map.on("moveend", later);
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var query = new URLSearchParams(new FormData(form));
        window.history.replaceState(null, "", "?" + query.toString());
        load();
      });
      form.addEventListener("change", later);
    }
    load();
  }

  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    if (element.dataset && element.dataset.map === "crime") { setup(element, event.detail.map); }
  });
})();
