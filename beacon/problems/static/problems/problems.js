/* Problem maps: drawing the area or a control area, choosing hot spot cells, and the
   workspace map of the area and its incidents. Data comes in data- attributes and
   json_script blocks; no inline scripts. */
(function () {
  "use strict";

  var AREA_STYLE = { color: "#1f5fa8", weight: 2, fillOpacity: 0.2 };

  function readJson(id) {
    var element = id ? document.getElementById(id) : null;
    if (!element) { return null; }
    try { return JSON.parse(element.textContent); } catch (e) { return null; }
  }

  function showArea(map, geometry, style) {
    if (!geometry || !geometry.type) { return null; }
    var layer = L.geoJSON(geometry, { style: style || AREA_STYLE }).addTo(map);
    if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { maxZoom: 16 }); }
    return layer;
  }

  /* One drawn polygon (or rectangle) synced into a hidden form field. */
  function drawInto(map, field, options) {
    var drawn = new L.FeatureGroup().addTo(map);
    if (!L.Control.Draw || !field) { return drawn; }
    map.addControl(new L.Control.Draw({
      draw: { polygon: { allowIntersection: false, showArea: true, shapeOptions: options.style },
              rectangle: { shapeOptions: options.style }, polyline: false, circle: false,
              marker: false, circlemarker: false },
      edit: { featureGroup: drawn }
    }));
    function sync() {
      var shapes = [];
      drawn.eachLayer(function (l) { shapes.push(l.toGeoJSON().geometry); });
      if (shapes.length === 1) { field.value = JSON.stringify(shapes[0]); }
      else if (shapes.length > 1) {
        field.value = JSON.stringify({ type: "MultiPolygon", coordinates: shapes.map(function (s) { return s.coordinates; }) });
      } else { field.value = ""; }
    }
    map.on(L.Draw.Event.CREATED, function (event) {
      // One area at a time: a new drawing replaces the previous one.
      drawn.clearLayers();
      drawn.addLayer(event.layer);
      sync();
    });
    map.on(L.Draw.Event.EDITED, sync);
    map.on(L.Draw.Event.DELETED, sync);
    if (field.value) {
      try { L.geoJSON(JSON.parse(field.value)).eachLayer(function (l) { drawn.addLayer(l); }); } catch (e) { /* shown by the server */ }
    }
    return drawn;
  }

  function problemEditor(element, map) {
    showArea(map, readJson(element.dataset.area), { color: "#555", weight: 1, dashArray: "4", fillOpacity: 0.05 });
    drawInto(map, document.querySelector("[data-problem-geometry]"), { style: AREA_STYLE });
  }

  function controlEditor(element, map) {
    showArea(map, readJson(element.dataset.area));
    drawInto(map, document.querySelector("[data-control-geometry]"), { style: { color: "#2e6b1f", weight: 2, fillOpacity: 0.2 } });
  }

  function hotspotPicker(element, map) {
    var data = readJson(element.dataset.cells);
    var field = document.querySelector("[data-hotspot-cells]");
    var select = document.getElementById("id_cluster");
    var counter = document.querySelector("[data-hotspot-count]");
    if (!data || !field) { return; }
    var chosen = {};
    var layers = {};
    function restyle() {
      Object.keys(layers).forEach(function (cell) {
        layers[cell].setStyle(chosen[cell]
          ? { color: "#b3261e", weight: 2, fillColor: "#b3261e", fillOpacity: 0.55 }
          : { color: "#d98a00", weight: 1, fillColor: "#d98a00", fillOpacity: 0.25 });
      });
      var cells = Object.keys(chosen).filter(function (c) { return chosen[c]; }).sort();
      field.value = cells.join(" ");
      if (counter) { counter.textContent = cells.length ? cells.length + " ✓" : ""; }
    }
    function chooseCluster(index) {
      chosen = {};
      data.features.forEach(function (f) { if (String(f.properties.cluster) === String(index)) { chosen[f.properties.cell] = true; } });
      restyle();
    }
    var group = L.geoJSON(data, {
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        layers[p.cell] = layer;
        layer.bindTooltip(p.cell + ": " + p.count + " (z " + Number(p.z).toFixed(1) + ")");
        layer.on("click", function () { chosen[p.cell] = !chosen[p.cell]; restyle(); });
      }
    }).addTo(map);
    if (group.getBounds().isValid()) { map.fitBounds(group.getBounds(), { maxZoom: 15 }); }
    if (select) {
      select.addEventListener("change", function () { chooseCluster(select.value); });
      chooseCluster(select.value);
    } else { restyle(); }
  }

  function problemMap(element, map) {
    fetch(element.dataset.geojsonUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var area = data.features.filter(function (f) { return f.properties.kind === "area"; });
        var incidents = data.features.filter(function (f) { return f.properties.kind === "incident"; });
        showArea(map, area.length ? area[0].geometry : null);
        if (!incidents.length) { return; }
        var group = L.markerClusterGroup ? L.markerClusterGroup() : L.featureGroup();
        L.geoJSON({ type: "FeatureCollection", features: incidents }, {
          pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 4, color: "#b3261e", weight: 1, fillOpacity: 0.6 }); },
          onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.offence + " — " + f.properties.date); group.addLayer(layer); }
        });
        group.addTo(map);
      });
  }

  var HANDLERS = {
    "problem-editor": problemEditor,
    "control-editor": controlEditor,
    "hotspot-picker": hotspotPicker,
    "problem": problemMap
  };

  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    var handler = element && element.dataset ? HANDLERS[element.dataset.map] : null;
    if (handler) { handler(element, event.detail.map); }
  });

  // After htmx swaps a section in, bring its first error into view.
  document.addEventListener("htmx:afterSwap", function (event) {
    var first = event.target.querySelector && event.target.querySelector(".error");
    if (first) { first.scrollIntoView({ block: "center" }); }
  });
})();
