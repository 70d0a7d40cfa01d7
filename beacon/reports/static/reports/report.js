/* The report page: pin on the map, "use my location", address look-up, the selected
   category's questions, and nearby open reports to support. No inline script. */
(function () {
  "use strict";
  var marker = null;
  var map = null;

  function form() { return document.getElementById("report-form"); }
  function field(name) { return form().querySelector("[name='" + name + "']"); }

  function selectedCategory() {
    var checked = form().querySelector("input[name='category']:checked");
    return checked ? checked.value : "";
  }

  function showQuestions() {
    var code = selectedCategory();
    form().querySelectorAll("fieldset.questions").forEach(function (set) {
      var on = set.dataset.category === code;
      set.hidden = !on;
      set.disabled = !on;
    });
  }

  function refreshNearby() {
    var lat = field("lat").value, lon = field("lon").value, code = selectedCategory();
    var box = document.getElementById("nearby");
    if (!lat || !lon || !code) { box.innerHTML = ""; return; }
    var url = form().dataset.nearbyUrl + "?category=" + encodeURIComponent(code) +
      "&lat=" + encodeURIComponent(lat) + "&lon=" + encodeURIComponent(lon);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { box.innerHTML = html; });
  }

  function setPoint(lat, lon, pan) {
    field("lat").value = lat.toFixed(6);
    field("lon").value = lon.toFixed(6);
    if (map) {
      if (marker) { marker.setLatLng([lat, lon]); }
      else {
        marker = L.marker([lat, lon], { draggable: true, keyboard: true, title: "Report location" }).addTo(map);
        marker.on("dragend", function () {
          var p = marker.getLatLng(); setPoint(p.lat, p.lng, false);
        });
      }
      if (pan) { map.setView([lat, lon], Math.max(map.getZoom(), 16)); }
    }
    refreshNearby();
  }

  function say(text) { document.getElementById("location-status").textContent = text; }

  function useLocation() {
    if (!navigator.geolocation) { say("Location is not available on this device."); return; }
    say("Finding you…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      say("Pin placed at your location; drag it if needed.");
      setPoint(pos.coords.latitude, pos.coords.longitude, true);
    }, function () { say("Could not get your location; tap the map instead."); },
    { enableHighAccuracy: true, timeout: 15000 });
  }

  function findAddress() {
    var q = field("address").value.trim();
    var list = document.getElementById("address-results");
    list.innerHTML = "";
    if (q.length < 3) { return; }
    fetch(form().dataset.geocodeUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.results.length) {
          var none = document.createElement("li");
          none.textContent = "No match; put a pin on the map instead.";
          list.appendChild(none);
          return;
        }
        data.results.forEach(function (place) {
          var item = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = place.label;
          button.addEventListener("click", function () {
            field("address").value = place.label;
            setPoint(place.lat, place.lon, true);
            list.innerHTML = "";
          });
          item.appendChild(button);
          list.appendChild(item);
        });
      });
  }

  document.addEventListener("beacon:map-ready", function (event) {
    if (!event.target.matches || !event.target.matches("[data-map='report']")) { return; }
    map = event.detail.map;
    map.on("click", function (e) { setPoint(e.latlng.lat, e.latlng.lng, false); });
    // Frame the community once its beats are drawn, unless a pin is already placed.
    var framed = false;
    map.on("layeradd", function (e) {
      if (framed || marker || !(e.layer instanceof L.GeoJSON)) { return; }
      var bounds = e.layer.getBounds();
      if (bounds.isValid()) { framed = true; map.fitBounds(bounds); }
    });
    var lat = parseFloat(field("lat").value), lon = parseFloat(field("lon").value);
    if (!isNaN(lat) && !isNaN(lon)) { setPoint(lat, lon, true); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!form()) { return; }
    form().querySelectorAll("input[name='category']").forEach(function (radio) {
      radio.addEventListener("change", function () { showQuestions(); refreshNearby(); });
    });
    document.getElementById("use-location").addEventListener("click", useLocation);
    document.getElementById("find-address").addEventListener("click", findAddress);
    field("address").addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); findAddress(); }
    });
    ["lat", "lon"].forEach(function (name) {
      field(name).addEventListener("change", function () {
        var lat = parseFloat(field("lat").value), lon = parseFloat(field("lon").value);
        if (!isNaN(lat) && !isNaN(lon)) { setPoint(lat, lon, true); }
      });
    });
    showQuestions();
    var errors = document.getElementById("form-errors");
    if (errors) { errors.focus(); }
  });
})();
