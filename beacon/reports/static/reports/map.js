/* Report maps: public reports as markers at their masked points, or one point. */
(function () {
  "use strict";
  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target, map = event.detail.map;
    if (element.dataset.map === "point") {
      var p = element.dataset.point.split(",").map(Number);
      L.circleMarker(p, { radius: 9, color: "#b3261e", weight: 3 }).addTo(map);
      return;
    }
    if (element.dataset.map !== "reports") { return; }
    fetch(element.dataset.pointsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var group = L.markerClusterGroup ? L.markerClusterGroup() : L.layerGroup();
        L.geoJSON(data, {
          onEachFeature: function (feature, layer) {
            var props = feature.properties;
            var box = document.createElement("div");
            var link = document.createElement("a");
            link.href = props.url;
            link.textContent = props.category + " — " + props.status;
            box.appendChild(link);
            var when = document.createElement("div");
            when.textContent = props.created;
            box.appendChild(when);
            layer.bindPopup(box);
          }
        }).eachLayer(function (layer) { group.addLayer(layer); });
        group.addTo(map);
      });
  });
})();
