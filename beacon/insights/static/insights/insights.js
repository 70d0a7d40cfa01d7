/* Analysis dashboards: Gi* hexagons, KDE cells, forecast cells and patrol areas, and
   near-repeat zones on Leaflet maps. Data comes from JSON endpoints named in data-
   attributes; no inline scripts. */
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function giStyle(feature) {
    var p = feature.properties;
    var z = Math.abs(p.gi_z || 0);
    if (p["class"] === "hot") {
      return { color: "#8b1a10", weight: 1, fillColor: z >= 3.29 ? "#b3261e" : z >= 2.58 ? "#d9534f" : "#f0a39b", fillOpacity: 0.6 };
    }
    if (p["class"] === "cold") {
      return { color: "#123e73", weight: 1, fillColor: z >= 2.58 ? "#1f5fa8" : "#8fb3df", fillOpacity: 0.5 };
    }
    return { color: "#777", weight: 0.3, fillOpacity: 0.03 };
  }

  function kdeLayer(data) {
    var values = data.features.map(function (f) { return f.properties.density_per_km2 || 0; });
    var max = Math.max.apply(null, values.concat([1e-9]));
    return L.geoJSON(data, {
      style: function (f) {
        var share = (f.properties.density_per_km2 || 0) / max;
        return { stroke: false, fillColor: "#6a1b9a", fillOpacity: 0.15 + 0.6 * share };
      },
      onEachFeature: function (f, lyr) {
        lyr.bindTooltip(Math.round(f.properties.density_per_km2) + " / km²");
      }
    });
  }

  function hotspotMap(element, map) {
    var overlays = {};
    var loads = [];
    var bounds = L.latLngBounds([]);
    if (element.dataset.kdeUrl) {
      loads.push(getJSON(element.dataset.kdeUrl).then(function (data) {
        var layer = kdeLayer(data).addTo(map);
        overlays[element.dataset.labelKde] = layer;
        if (layer.getBounds().isValid()) { bounds.extend(layer.getBounds()); }
      }));
    }
    if (element.dataset.giUrl) {
      loads.push(getJSON(element.dataset.giUrl).then(function (data) {
        var labels = { hot: element.dataset.labelHot, cold: element.dataset.labelCold, ns: element.dataset.labelNs };
        var layer = L.geoJSON(data, {
          style: giStyle,
          onEachFeature: function (f, lyr) {
            var p = f.properties;
            var tip = (labels[p["class"]] || p["class"]) + " · " + p.count + " " + element.dataset.labelCount +
              " · z " + (p.gi_z === null ? "–" : p.gi_z.toFixed(2));
            lyr.bindTooltip(tip);
          }
        }).addTo(map);
        overlays[element.dataset.labelGi] = layer;
        if (layer.getBounds().isValid()) { bounds.extend(layer.getBounds()); }
      }));
    }
    Promise.all(loads).then(function () {
      if (Object.keys(overlays).length) { L.control.layers(null, overlays, { collapsed: false }).addTo(map); }
      if (bounds.isValid()) { map.fitBounds(bounds); }
    });
  }

  function forecastMap(element, map) {
    getJSON(element.dataset.url).then(function (data) {
      var cells = [];
      var patrols = [];
      data.features.forEach(function (f) {
        (f.properties.layer === "patrol" ? patrols : cells).push(f);
      });
      var n = Math.max(cells.length, 1);
      var cellLayer = L.geoJSON({ type: "FeatureCollection", features: cells }, {
        style: function (f) {
          var strength = 1 - (f.properties.rank - 1) / n;
          return { color: "#b35c00", weight: 0.5, fillColor: "#e07b00", fillOpacity: 0.2 + 0.6 * strength };
        },
        onEachFeature: function (f, lyr) { lyr.bindTooltip(element.dataset.labelRank + " " + f.properties.rank); }
      }).addTo(map);
      var patrolLayer = L.geoJSON({ type: "FeatureCollection", features: patrols }, {
        style: function () { return { color: "#1f5fa8", weight: 3, fillOpacity: 0 }; },
        onEachFeature: function (f, lyr) {
          lyr.bindTooltip(f.properties.beat + " · " + element.dataset.labelUnit + " " + f.properties.unit);
        }
      }).addTo(map);
      var overlays = {};
      overlays[element.dataset.labelCells] = cellLayer;
      overlays[element.dataset.labelPatrols] = patrolLayer;
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
      var all = L.featureGroup([cellLayer, patrolLayer]);
      if (all.getBounds().isValid()) { map.fitBounds(all.getBounds()); }
    });
  }

  function zoneMap(element, map) {
    getJSON(element.dataset.url).then(function (data) {
      var group = L.featureGroup();
      data.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var p = f.properties;
        var circle = L.circle([c[1], c[0]], {
          radius: Math.max(p.radius_m, 15),
          color: p.mine ? "#b3261e" : "#b35c00",
          weight: p.mine ? 2 : 1,
          fillOpacity: 0.15
        });
        var box = document.createElement("div");
        box.appendChild(text(p.group));
        box.appendChild(document.createElement("br"));
        box.appendChild(text(element.dataset.labelUntil + " " + p.until));
        box.appendChild(document.createElement("br"));
        box.appendChild(text(element.dataset.labelRadius + " " + Math.round(p.radius_m) + " m"));
        circle.bindPopup(box);
        group.addLayer(circle);
      });
      group.addTo(map);
      if (group.getBounds().isValid()) { map.fitBounds(group.getBounds(), { maxZoom: 15 }); }
    });
  }

  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    var kind = element.dataset ? element.dataset.map : "";
    var map = event.detail.map;
    if (kind === "insights-hotspots") { hotspotMap(element, map); }
    if (kind === "insights-forecast") { forecastMap(element, map); }
    if (kind === "insights-zones") { zoneMap(element, map); }
  });
})();
