/* Concerns board: pins on the map and picking a point for a new concern. */
(function () {
  "use strict";
  function popup(props) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = props.url;
    link.textContent = props.title;
    box.appendChild(link);
    var meta = document.createElement("div");
    meta.textContent = props.category + " · " + props.supports + " · " + props.status;
    box.appendChild(meta);
    return box;
  }
  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target, map = event.detail.map;
    if (element.dataset.map === "point") {
      L.circleMarker(element.dataset.point.split(",").map(Number), { radius: 10, color: "#b3261e", weight: 3 }).addTo(map);
      return;
    }
    if (element.dataset.map !== "concerns") { return; }
    fetch(element.dataset.pointsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var group = L.markerClusterGroup ? L.markerClusterGroup() : L.layerGroup();
        L.geoJSON(data, { onEachFeature: function (f, layer) { layer.bindPopup(popup(f.properties)); } })
          .eachLayer(function (layer) { group.addLayer(layer); });
        group.addTo(map);
      });
    if (!element.dataset.pick) { return; }
    var lat = document.querySelector("[data-concern-lat]");
    var lon = document.querySelector("[data-concern-lon]");
    var where = document.querySelector("[data-concern-where]");
    var marker = null;
    function place(latlng) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
      if (lat) { lat.value = latlng.lat.toFixed(6); }
      if (lon) { lon.value = latlng.lng.toFixed(6); }
      if (where) { where.value = latlng.lat.toFixed(5) + ", " + latlng.lng.toFixed(5); }
    }
    if (lat && lon && lat.value && lon.value) { place(L.latLng(Number(lat.value), Number(lon.value))); }
    map.on("click", function (e) { place(e.latlng); });
  });
})();
