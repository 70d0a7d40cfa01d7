/* "Find your officer": a click on the map asks the server which beat holds the point. */
(function () {
  "use strict";
  document.addEventListener("beacon:map-ready", function (event) {
    var element = event.target;
    if (element.dataset.map !== "officers") { return; }
    var map = event.detail.map;
    var result = document.getElementById(element.dataset.result);
    var marker = null;
    map.on("click", function (click) {
      var lat = click.latlng.lat.toFixed(6);
      var lon = click.latlng.lng.toFixed(6);
      if (marker) { marker.setLatLng(click.latlng); } else { marker = L.marker(click.latlng).addTo(map); }
      var url = element.dataset.atUrl + "?lat=" + encodeURIComponent(lat) + "&lon=" + encodeURIComponent(lon);
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) { result.innerHTML = html; result.focus(); });
    });
  });
})();
