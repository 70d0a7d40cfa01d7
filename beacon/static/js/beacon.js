/* Beacon page behaviour: maps and small progressive enhancements. No inline scripts. */
(function () {
  "use strict";

  function makeMap(element) {
    var centre = (element.dataset.centre || "0,0").split(",").map(Number);
    // maxZoom is set here, not only on the tile layer: without tiles (none configured)
    // Leaflet has no maximum zoom and marker clustering refuses to start.
    var map = L.map(element, { scrollWheelZoom: false, maxZoom: 19 }).setView(centre, Number(element.dataset.zoom || 12));
    var tileUrl = document.body.dataset.tileUrl;
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: document.body.dataset.tileAttribution || "" }).addTo(map);
    }
    element.beaconMap = map;
    return map;
  }

  function areaStyle(feature) {
    var colours = { neighbourhood: "#1f5fa8", beat: "#b3261e", district: "#3d6b21" };
    return { color: colours[feature.properties.kind] || "#444", weight: 2, fillOpacity: 0.08 };
  }

  function loadAreas(map, url, fit) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        // One layer per kind, so neighbourhoods, beats and districts can be told apart.
        var byKind = {};
        data.features.forEach(function (feature) {
          var kind = feature.properties.kind || "area";
          (byKind[kind] = byKind[kind] || []).push(feature);
        });
        var overlays = {};
        var all = L.featureGroup();
        Object.keys(byKind).sort().forEach(function (kind, index) {
          var layer = L.geoJSON({ type: "FeatureCollection", features: byKind[kind] }, {
            style: areaStyle,
            onEachFeature: function (feature, lyr) { lyr.bindTooltip(feature.properties.name); }
          });
          overlays[kind.charAt(0).toUpperCase() + kind.slice(1) + "s"] = layer;
          all.addLayer(layer);
          if (index === 0 || kind === "neighbourhood") { layer.addTo(map); }
        });
        if (Object.keys(overlays).length > 1) { L.control.layers(null, overlays, { collapsed: false }).addTo(map); }
        if (fit && all.getBounds().isValid()) { map.fitBounds(all.getBounds()); }
        return all;
      });
  }

  function setupEditor(element, map) {
    var field = document.querySelector("[data-area-geometry]");
    var drawn = new L.FeatureGroup().addTo(map);
    if (field && field.value) {
      try {
        var existing = L.geoJSON(JSON.parse(field.value));
        existing.eachLayer(function (l) { drawn.addLayer(l); });
        if (drawn.getBounds().isValid()) { map.fitBounds(drawn.getBounds()); }
      } catch (e) { /* the server reports bad JSON next to the field */ }
    }
    if (!L.Control.Draw) { return; }
    map.addControl(new L.Control.Draw({
      draw: { polygon: { allowIntersection: false, showArea: true }, polyline: false, circle: false,
              rectangle: true, marker: false, circlemarker: false },
      edit: { featureGroup: drawn }
    }));
    function sync() {
      var shapes = [];
      drawn.eachLayer(function (l) { shapes.push(l.toGeoJSON().geometry); });
      if (!field) { return; }
      if (shapes.length === 1) { field.value = JSON.stringify(shapes[0]); }
      else if (shapes.length > 1) {
        field.value = JSON.stringify({ type: "MultiPolygon", coordinates: shapes.map(function (s) { return s.coordinates; }) });
      } else { field.value = ""; }
    }
    map.on(L.Draw.Event.CREATED, function (event) { drawn.addLayer(event.layer); sync(); });
    map.on(L.Draw.Event.EDITED, sync);
    map.on(L.Draw.Event.DELETED, sync);
  }

  function initMaps() {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll("[data-map]").forEach(function (element) {
      if (element.beaconMap) { return; }
      var map = makeMap(element);
      var kind = element.dataset.map;
      if (element.dataset.areasUrl) { loadAreas(map, element.dataset.areasUrl, kind === "areas"); }
      if (kind === "editor") { setupEditor(element, map); }
      element.dispatchEvent(new CustomEvent("beacon:map-ready", { detail: { map: map }, bubbles: true }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    initMaps();
  });

  window.Beacon = { makeMap: makeMap, loadAreas: loadAreas, initMaps: initMaps };
})();
