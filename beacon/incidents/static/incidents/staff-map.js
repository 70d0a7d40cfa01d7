/* Staff incident maps: the filtered incidents at their true locations. */
(function () {
  "use strict";

  function listMap(element, map) {
    fetch(element.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var group = L.markerClusterGroup ? L.markerClusterGroup() : L.featureGroup();
        L.geoJSON(data, {
          onEachFeature: function (f, lyr) {
            var link = document.createElement("a");
            link.href = f.properties.url;
            link.textContent = f.properties.offence + " (" + f.properties.date + ")";
            lyr.bindPopup(link);
            group.addLayer(lyr);
          }
        });
        group.addTo(map);
        if (group.getBounds().isValid()) { map.fitBounds(group.getBounds(), { maxZoom: 16 }); }
      });
  }

  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    var kind = element.dataset ? element.dataset.map : "";
    if (kind === "staff-incidents") { listMap(element, event.detail.map); }
    if (kind === "staff-incident") {
      var point = element.dataset.point.split(",").map(Number);
      L.marker(point).addTo(event.detail.map);
    }
  });
})();
