/* A watch group's page: click the map to place the pin of a report. */
(function () {
  "use strict";
  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    if (element.dataset.map !== "group") { return; }
    var map = event.detail.map;
    var lat = document.querySelector("[data-pin-lat]");
    var lon = document.querySelector("[data-pin-lon]");
    if (!lat || !lon) { return; }
    var marker = null;
    map.on("click", function (click) {
      lat.value = click.latlng.lat.toFixed(6);
      lon.value = click.latlng.lng.toFixed(6);
      if (marker) { marker.setLatLng(click.latlng); } else { marker = L.marker(click.latlng).addTo(map); }
    });
  });
})();
