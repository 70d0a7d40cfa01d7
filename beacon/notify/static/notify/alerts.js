/* Alerts and broadcast pages: click the map to set a circle's centre; show where one may
   broadcast. Drawing polygons is handled by Beacon's map editor (beacon.js). */
(function () {
  "use strict";

  function setupAlertMap(element, map) {
    var lat = document.querySelector("[data-alert-lat]");
    var lon = document.querySelector("[data-alert-lon]");
    var radius = document.querySelector("[data-alert-radius]");
    if (!lat || !lon) { return; }
    var marker = null;
    var circle = null;
    function draw() {
      if (!lat.value || !lon.value) { return; }
      var centre = [Number(lat.value), Number(lon.value)];
      var metres = Number(radius && radius.value) || 500;
      if (marker) { marker.setLatLng(centre); } else { marker = L.marker(centre).addTo(map); }
      if (circle) { circle.setLatLng(centre).setRadius(metres); }
      else { circle = L.circle(centre, { radius: metres, weight: 2 }).addTo(map); }
    }
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      lon.value = event.latlng.lng.toFixed(6);
      var kind = document.querySelector("input[name=area_kind][value=radius]");
      if (kind) { kind.checked = true; }
      draw();
    });
    if (radius) { radius.addEventListener("input", draw); }
    draw();
  }

  function showAllowed(element, map) {
    var source = document.getElementById(element.dataset.allowedId);
    if (!source) { return; }
    var layer = L.geoJSON(JSON.parse(source.textContent), {
      style: { color: "#3d6b21", weight: 2, fillOpacity: 0.06, dashArray: "4 4" },
      interactive: false
    }).addTo(map);
    if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
  }

  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    var map = event.detail.map;
    if (element.hasAttribute("data-alert-map")) { setupAlertMap(element, map); }
    if (element.dataset.allowedId) { showAllowed(element, map); }
  });
})();
