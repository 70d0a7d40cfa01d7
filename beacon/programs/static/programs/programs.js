/* Event pages: session markers on the event map, and the place picker on the session form. */
(function () {
  "use strict";

  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    var map = event.detail.map;
    if (element.dataset.pointsId) {
      var source = document.getElementById(element.dataset.pointsId);
      var points = source ? JSON.parse(source.textContent) : [];
      var bounds = [];
      points.forEach(function (point) {
        L.marker([point.lat, point.lon]).addTo(map).bindPopup(point.label);
        bounds.push([point.lat, point.lon]);
      });
      if (bounds.length === 1) { map.setView(bounds[0], 15); }
      else if (bounds.length > 1) { map.fitBounds(bounds, { padding: [30, 30] }); }
    }
    if (element.dataset.map === "picker") {
      var lat = document.querySelector("[data-session-lat]");
      var lon = document.querySelector("[data-session-lon]");
      var marker = null;
      function place(latlng) {
        if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
      }
      if (lat && lon && lat.value && lon.value) { place([Number(lat.value), Number(lon.value)]); }
      map.on("click", function (e) {
        place(e.latlng);
        if (lat && lon) { lat.value = e.latlng.lat.toFixed(6); lon.value = e.latlng.lng.toFixed(6); }
      });
    }
  });
})();
